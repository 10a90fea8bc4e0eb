"""The incident's working lists: checklist tasks and evidence links."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from .. import clock, timeline
from ..errors import InvalidInput
from ..models import EvidenceLink, Incident, IncidentTask
from .base import Kind, clean_text, lock, require_not_closed


@transaction.atomic
def add_task(incident: Incident, title: str, *, actor, source: str) -> IncidentTask:
    incident = lock(incident)
    require_not_closed(incident, "take new tasks")
    title = clean_text(title, "The task", max_length=300)
    position = (incident.tasks.aggregate(m=Max("position"))["m"] or 0) + 1
    task = IncidentTask.objects.create(incident=incident, position=position, title=title)
    timeline.record(incident, Kind.TASK_ADDED, f"Task added: {title}", actor=actor, source=source, data={"task": task.pk})
    return task


@transaction.atomic
def set_task_done(task: IncidentTask, done: bool, *, actor, source: str) -> IncidentTask:
    """Tick a task off (or untick it)."""
    incident = lock(task.incident)
    require_not_closed(incident, "change its tasks")
    task = IncidentTask.objects.select_for_update().get(pk=task.pk)
    if task.is_done == done:
        raise InvalidInput(f"“{task.title}” is already {'done' if done else 'open'}.")
    task.done_at = clock.now() if done else None
    task.done_by = actor if done and getattr(actor, "is_authenticated", False) else None
    task.save(update_fields=["done_at", "done_by"])
    kind = Kind.TASK_DONE if done else Kind.TASK_REOPENED
    timeline.record(
        incident, kind, f"Task {'done' if done else 'reopened'}: {task.title}", actor=actor, source=source, data={"task": task.pk}
    )
    return task


@transaction.atomic
def add_evidence(incident: Incident, url: str, *, actor, source: str, kind: str = EvidenceLink.Kind.DASHBOARD, title: str = "") -> EvidenceLink:
    """Attach a dashboard, log snapshot or trace link."""
    if kind not in EvidenceLink.Kind.values:
        raise InvalidInput(f"Unknown evidence kind {kind!r}.")
    url = clean_text(url, "The link", max_length=1000)
    if not url.startswith(("https://", "http://")):
        raise InvalidInput("Evidence links must be http(s) URLs.")
    incident = lock(incident)
    require_not_closed(incident, "take evidence")
    link = EvidenceLink.objects.create(
        incident=incident,
        kind=kind,
        url=url,
        title=(title or "").strip()[:200],
        added_by=actor if getattr(actor, "is_authenticated", False) else None,
        added_at=clock.now(),
    )
    timeline.record(
        incident,
        Kind.EVIDENCE_ADDED,
        f"{EvidenceLink.Kind(kind).label} added: {link.title or url}",
        actor=actor,
        source=source,
        data={"url": url, "kind": kind},
    )
    return link
