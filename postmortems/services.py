"""Opening a post-mortem from its incident (copying the timeline) and the rule that keeps an
incident open until its post-mortem is published.

Status moves and action-item changes live in `postmortems.actions`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from incidents.deadlines import calendar_of
from incidents.errors import IllegalTransition
from incidents.models import Incident, TimelineEvent
from incidents.selectors import current_commander

from . import due_dates
from .models import PostMortem, PostMortemTimelineEntry

Kind = TimelineEvent.Kind

# Timeline kinds copied hidden: bookkeeping a reader of the post-mortem rarely needs. The
# author can show any of them again.
HIDDEN_BY_DEFAULT = frozenset(
    {
        Kind.TASK_ADDED,
        Kind.TASK_DONE,
        Kind.TASK_REOPENED,
        Kind.DETAILS_CHANGED,
        Kind.UPDATE_OVERDUE,
        Kind.NOTIFICATION_FAILED,
        "postmortem_reminder",
    }
)


def requires_postmortem(incident: Incident) -> bool:
    """Its severity requires one; drills never do (they are exercises, left out of metrics)."""
    return incident.severity.requires_postmortem and not incident.is_drill


def _time_zone(owner) -> str:
    return getattr(owner, "time_zone", None) or settings.TIME_ZONE


def _timeline_rows(postmortem: PostMortem, events, *, after: int = 0) -> list[PostMortemTimelineEntry]:
    """The document's timeline rows for these incident events, numbered after position `after`;
    bookkeeping kinds start hidden."""
    return [
        PostMortemTimelineEntry(
            postmortem=postmortem,
            event=event,
            occurred_at=event.occurred_at,
            text=event.message,
            hidden=event.kind in HIDDEN_BY_DEFAULT,
            position=position,
        )
        for position, event in enumerate(events, after + 1)
    ]


@transaction.atomic
def create_for(incident: Incident, *, owner=None) -> PostMortem:
    """Open the post-mortem of `incident` (any incident, on request or on resolution).

    Owner: the one given, else the current incident commander. Due dates follow the severity's
    policy (`due_dates`), counted from the resolution (from now if the incident is still open) in
    the owner's zone, business days on the incident's team calendar. The timeline is copied from
    the incident's events, bookkeeping rows hidden."""
    # The incident row lock makes "one post-mortem per incident" safe against a concurrent
    # request; the OneToOne unique index backs it up.
    incident = (
        Incident.objects.select_for_update(of=("self",))
        .select_related("severity", "escalation_policy__team")
        .get(pk=incident.pk)
    )
    if PostMortem.objects.filter(incident=incident).exists():
        raise IllegalTransition(f"{incident.reference} already has a post-mortem.")
    owner = owner or current_commander(incident)
    dates = due_dates.due_dates(
        incident.resolved_at or timezone.now(),
        due_dates.Policy.of(incident.severity),
        time_zone=_time_zone(owner),
        calendar=calendar_of(incident.escalation_policy),
    )
    postmortem = PostMortem.objects.create(
        incident=incident,
        owner=owner,
        draft_due=dates.draft,
        review_due=dates.review,
        publish_due=dates.publish,
        summary=incident.resolution_summary or incident.summary,
        business_impact=incident.impact_description,
    )
    events = TimelineEvent.objects.filter(incident=postmortem.incident_id).order_by("occurred_at", "pk")
    PostMortemTimelineEntry.objects.bulk_create(_timeline_rows(postmortem, events))
    return postmortem


def refresh_timeline(postmortem: PostMortem) -> list[PostMortemTimelineEntry]:
    """Append the incident's events not yet in the post-mortem's timeline (a reopen, its pages
    and updates, the new resolution) after its last row. Rows already there — hidden, shown,
    annotated, or written by the author — stay as they are."""
    copied = set(postmortem.timeline_entries.exclude(event=None).values_list("event_id", flat=True))
    last = postmortem.timeline_entries.aggregate(m=Max("position"))["m"] or 0
    events = (
        TimelineEvent.objects.filter(incident=postmortem.incident_id)
        .exclude(pk__in=copied)
        .order_by("occurred_at", "pk")
    )
    return PostMortemTimelineEntry.objects.bulk_create(_timeline_rows(postmortem, events, after=last))


def open_on_resolve(events) -> None:
    """Timeline reaction "postmortems.open_on_resolve": a resolution that requires a post-mortem
    opens one, in the resolving transaction. Resolving again after a reopen keeps the first and
    brings its timeline up to date (`refresh_timeline`)."""
    for event in events:
        if event.kind != Kind.RESOLVED:
            continue
        incident = event.incident
        existing = PostMortem.objects.filter(incident_id=incident.pk).first()
        if existing is not None:
            refresh_timeline(existing)
            continue
        if not requires_postmortem(incident):
            continue
        create_for(incident, owner=current_commander(incident) or event.actor)


# --- The close guard --------------------------------------------------------------------------


def close_guard(incident: Incident) -> str | None:
    """Registered in `incidents.lifecycle.close_guards`: why `incident` may not close yet, or None."""
    if not requires_postmortem(incident):
        return None
    postmortem = PostMortem.objects.filter(incident_id=incident.pk).select_related("owner").first()
    if postmortem is None:
        return (
            f"{incident.reference} needs its post-mortem published before it can be closed "
            f"({incident.severity.name} requires one and none exists yet)."
        )
    if postmortem.status == PostMortem.Status.PUBLISHED:
        return None
    owner = str(postmortem.owner) if postmortem.owner else "no owner"
    due = postmortem.current_due
    return (
        f"{incident.reference} needs its post-mortem published before it can be closed "
        f"(it is {PostMortem.Status(postmortem.status).label.lower()}, owner {owner}, due {due:%Y-%m-%d})."
    )
