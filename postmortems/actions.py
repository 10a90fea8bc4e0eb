"""Every change to a post-mortem's state and to its action items' status, owner and due date.

Like `incidents.actions`, each runs in one transaction, locks the rows it changes, checks the
step and raises `IllegalTransition`/`InvalidInput` with a message a person can act on. The
admin (change forms, status buttons, bulk actions) and the API call these; nothing else writes
`PostMortem.status`, its `…_at`/`…_by` stamps, `ActionItem.completed_at` or which timeline rows
are hidden and what notes they carry.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from incidents import actions as incident_actions
from incidents.errors import IllegalTransition, InvalidInput
from incidents.models import Source

from .models import ActionItem, PostMortem, PostMortemTimelineEntry

_UNSET = object()


# --- Action items -----------------------------------------------------------------------------


def stamp_completion(item: ActionItem, *, now=None) -> None:
    """Keep `completed_at` in step with the status (unsaved): stamped when it becomes done, kept
    while it stays done, cleared otherwise. "Won't do" is finished (no longer open, never overdue)
    but was not completed, so it carries no completion time and counts apart from "done"."""
    if item.status == ActionItem.Status.DONE:
        item.completed_at = item.completed_at or now or timezone.now()
    else:
        item.completed_at = None


def _require_status(status: str) -> None:
    if status not in ActionItem.Status.values:
        raise InvalidInput(f"Unknown action item status {status!r}.")


@transaction.atomic
def update_action_item(item: ActionItem, *, status=_UNSET, owner=_UNSET, due_date=_UNSET) -> ActionItem:
    """Apply the given changes (leave a field out to keep it; `owner`/`due_date` None clears them)."""
    item = ActionItem.objects.select_for_update(of=("self",)).get(pk=item.pk)
    fields = []
    if status is not _UNSET and status != item.status:
        _require_status(status)
        item.status = status
        stamp_completion(item)
        fields += ["status", "completed_at"]
    if owner is not _UNSET and (owner.pk if owner else None) != item.owner_id:
        item.owner = owner
        fields.append("owner")
    if due_date is not _UNSET and due_date != item.due_date:
        item.due_date = due_date
        fields.append("due_date")
    if fields:
        item.save(update_fields=fields)
    return item


@transaction.atomic
def set_action_items_status(items, status: str) -> int:
    """Move several action items to `status` (the admin's bulk actions); returns how many changed."""
    _require_status(status)
    now = timezone.now()
    # Lock the rows alone: the admin's queryset joins nullable relations, which PostgreSQL
    # cannot lock (FOR UPDATE on the nullable side of an outer join).
    locked = ActionItem.objects.select_for_update().filter(pk__in=list(items.values_list("pk", flat=True)))
    changed = [item for item in locked if item.status != status]
    for item in changed:
        item.status = status
        stamp_completion(item, now=now)
    ActionItem.objects.bulk_update(changed, ["status", "completed_at"])
    return len(changed)


# --- The document's timeline -------------------------------------------------------------------

ANNOTATION_MAX = 500  # a note on one row, not a section of its own


@transaction.atomic
def edit_timeline(postmortem: PostMortem, changes: dict[int, dict]) -> int:
    """Hide or show the post-mortem's timeline rows and set their notes: `changes` maps a row's id
    to `{"hidden": bool, "annotation": str}` (leave a key out to keep it). Hidden rows are left
    out of the published document (export, print view). Returns how many rows changed."""
    rows = {
        row.pk: row
        for row in PostMortemTimelineEntry.objects.select_for_update().filter(postmortem=postmortem, pk__in=list(changes))
    }
    if unknown := sorted(set(changes) - set(rows)):
        raise InvalidInput(f"Timeline rows {unknown} are not in this post-mortem's timeline.")
    changed = []
    for pk, values in changes.items():
        row = rows[pk]
        hidden = bool(values.get("hidden", row.hidden))
        annotation = (values.get("annotation", row.annotation) or "").strip()
        if len(annotation) > ANNOTATION_MAX:
            raise InvalidInput(f"A timeline note is at most {ANNOTATION_MAX} characters ({len(annotation)} given).")
        if (hidden, annotation) != (row.hidden, row.annotation):
            row.hidden, row.annotation = hidden, annotation
            changed.append(row)
    PostMortemTimelineEntry.objects.bulk_update(changed, ["hidden", "annotation"])
    return len(changed)


# --- Post-mortem status -----------------------------------------------------------------------

# Each move: (from, to, refusal, what the incident's timeline says, the stamps it sets).
_MOVES = {
    "submit_for_review": (
        PostMortem.Status.DRAFT, PostMortem.Status.IN_REVIEW, "only a draft can go to review.",
        "submitted the post-mortem for review", ("submitted_at", "submitted_by"),
    ),
    "return_to_draft": (
        PostMortem.Status.IN_REVIEW, PostMortem.Status.DRAFT, "only one in review can go back to draft.",
        "sent the post-mortem back to draft", ("returned_at", "returned_by"),
    ),
    "publish": (
        PostMortem.Status.IN_REVIEW, PostMortem.Status.PUBLISHED, "it must be in review before it is published.",
        "published the post-mortem", ("published_at", "published_by"),
    ),
}


def _move(postmortem: PostMortem, name: str, actor, source: str) -> PostMortem:
    frm, to, refusal, said, (at_field, by_field) = _MOVES[name]
    postmortem = (
        PostMortem.objects.select_for_update(of=("self",)).select_related("incident", "owner").get(pk=postmortem.pk)
    )
    if postmortem.status != frm:
        label = PostMortem.Status(postmortem.status).label.lower()
        raise IllegalTransition(f"The post-mortem of {postmortem.incident.reference} is {label}; {refusal}")
    now = timezone.now()
    postmortem.status = to
    setattr(postmortem, at_field, now)
    setattr(postmortem, by_field, actor)
    postmortem.save(update_fields=["status", at_field, by_field])
    who = str(actor) if actor is not None else "Vigil"  # a script or a test moved it
    incident_actions.record_postmortem_status(postmortem.incident, f"{who} {said}.", actor=actor, source=source)
    return postmortem


@transaction.atomic
def submit_for_review(postmortem: PostMortem, *, actor=None, source: str = Source.SYSTEM) -> PostMortem:
    """draft → in review, recording who submitted it."""
    return _move(postmortem, "submit_for_review", actor, source)


@transaction.atomic
def return_to_draft(postmortem: PostMortem, *, actor=None, source: str = Source.SYSTEM) -> PostMortem:
    """in review → draft (the review asked for changes). A published post-mortem stays published."""
    return _move(postmortem, "return_to_draft", actor, source)


@transaction.atomic
def publish(postmortem: PostMortem, *, actor=None, source: str = Source.SYSTEM) -> PostMortem:
    """in review → published, recording who published it and when (publication lets a severity
    that requires a post-mortem close its incident)."""
    return _move(postmortem, "publish", actor, source)


TRANSITIONS = {
    "submit_for_review": submit_for_review,
    "return_to_draft": return_to_draft,
    "publish": publish,
}
