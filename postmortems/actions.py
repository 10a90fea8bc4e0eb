"""Every change to a post-mortem's state and to its action items' status, owner and due date.

Like `incidents.actions`, each runs in one transaction, locks the rows it changes, checks the
step and raises `IllegalTransition`/`InvalidInput` with a message a person can act on. The
admin (change forms, status buttons, bulk actions) and the API call these; nothing else writes
`PostMortem.status`, `published_at` or `ActionItem.completed_at`.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from incidents.errors import IllegalTransition, InvalidInput

from .models import ActionItem, PostMortem

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


# --- Post-mortem status -----------------------------------------------------------------------

def _move(postmortem: PostMortem, frm: str, to: str, refusal: str) -> PostMortem:
    postmortem = (
        PostMortem.objects.select_for_update(of=("self",)).select_related("incident", "owner").get(pk=postmortem.pk)
    )
    if postmortem.status != frm:
        label = PostMortem.Status(postmortem.status).label.lower()
        raise IllegalTransition(f"The post-mortem of {postmortem.incident.reference} is {label}; {refusal}")
    postmortem.status = to
    postmortem.published_at = timezone.now() if to == PostMortem.Status.PUBLISHED else None
    postmortem.save(update_fields=["status", "published_at"])
    return postmortem


@transaction.atomic
def submit_for_review(postmortem: PostMortem, *, actor=None) -> PostMortem:
    """draft → in review."""
    return _move(postmortem, PostMortem.Status.DRAFT, PostMortem.Status.IN_REVIEW, "only a draft can go to review.")


@transaction.atomic
def return_to_draft(postmortem: PostMortem, *, actor=None) -> PostMortem:
    """in review → draft (the review asked for changes). A published post-mortem stays published."""
    return _move(
        postmortem, PostMortem.Status.IN_REVIEW, PostMortem.Status.DRAFT, "only one in review can go back to draft."
    )


@transaction.atomic
def publish(postmortem: PostMortem, *, actor=None) -> PostMortem:
    """in review → published, stamping `published_at`."""
    return _move(
        postmortem, PostMortem.Status.IN_REVIEW, PostMortem.Status.PUBLISHED, "it must be in review before it is published."
    )


TRANSITIONS = {
    "submit_for_review": submit_for_review,
    "return_to_draft": return_to_draft,
    "publish": publish,
}
