"""The escalation preview: the engine's own plan, played forward and told step by step, for an
incident (who is paged and told next if nobody acts) or for a policy and a severity (if an
incident were declared now)."""

from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format

from .. import deadlines, escalation, firing
from ..forms.catalog import EscalationPreviewForm
from ..models import Incident, SeverityLevel

PREVIEW_HORIZON = timezone.timedelta(days=8)
TEMPLATE = "admin/incidents/incident/escalation_preview.html"


def incident_preview(model_admin: admin.ModelAdmin, request, incident: Incident) -> TemplateResponse:
    """What the incident's escalation does next, from its deadlines as they stand."""
    levels = deadlines.policy_levels(incident.escalation_policy)
    situation = deadlines.situation(incident, levels)
    context = _preview_context(
        model_admin, request, policy=incident.escalation_policy, situation=situation, levels=levels, incident=incident
    )
    context["title"] = f"Escalation preview · {incident.reference}"
    context["subtitle"] = (
        "Who is paged and told next, if nobody updates or resolves"
        if incident.acknowledged_at
        else "Who is paged and told next, if nobody acknowledges, updates or resolves"
    )
    return TemplateResponse(request, TEMPLATE, context)


def policy_preview(model_admin: admin.ModelAdmin, request) -> TemplateResponse:
    """The escalation of an incident declared now under the chosen policy and severity (the most
    severe when none is chosen)."""
    data = request.GET.copy() if request.GET else None
    if data is not None and not data.get("severity"):
        most_severe = SeverityLevel.objects.order_by("rank").first()
        data["severity"] = str(most_severe.pk) if most_severe else ""
    form = EscalationPreviewForm(data)
    if form.is_valid():
        policy, severity = form.cleaned_data["policy"], form.cleaned_data["severity"]
        levels = deadlines.policy_levels(policy)
        situation = deadlines.situation_for(policy=policy, levels=levels, severity=severity, declared_at=timezone.now())
        context = _preview_context(model_admin, request, policy=policy, situation=situation, levels=levels)
    else:
        context = {**model_admin.admin_site.each_context(request), "opts": model_admin.opts}
    context.update(form=form, title="Escalation preview", subtitle="If an incident were declared now and nobody acknowledged it")
    return TemplateResponse(request, TEMPLATE, context)


def _preview_context(model_admin, request, *, policy, situation, levels, incident=None) -> dict:
    by_position = {level.position: level for level in levels}
    now = timezone.now()

    def people_at(position, at):
        return firing.level_targets(by_position[position], at)

    steps = escalation.play_forward(situation, until=now + PREVIEW_HORIZON, people_at=people_at)
    rows = []
    for step in steps:
        rows.append({"at": step.at, "what": _describe_step(step, by_position, situation), "step": step, "by_position": by_position})
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "policy": policy,
        "incident": incident,
        "rows": rows,
        "horizon": PREVIEW_HORIZON,
        "levels": levels,
    }


def _describe_step(step, by_position, situation) -> list[tuple[str, list]]:
    """Lines of one preview step: (what happens, people). Engagements say whether the level is
    paged or informed; pages an acknowledge breach puts off until working hours say until when."""
    key, firing = step.key, step.firing
    lines = []
    repages = len(firing.repage_levels)
    if key.kind == escalation.ACK_TIMEOUT:
        rounds = key.round - situation.earlier_ack_rounds  # counted within the current round (after a reopen)
        head = (
            f"Acknowledge SLA breach (round {rounds}) waited for working hours"
            if key.level
            else f"Acknowledge SLA breached (round {rounds})"
        )
        for position, people in step.pages[:repages]:
            lines.append((f"{head}: level {position} paged again", people))
        for position, when in firing.waiting:
            at = date_format(timezone.localtime(when), "D Y-m-d H:i")
            lines.append((f"{head}: level {position} · {by_position[position].name} is business-hours only, paged at {at}", []))
        if not lines and not key.level:
            lines.append((head, []))
    for position in step.nobody:
        lines.append((f"Level {position} · {by_position[position].name}: nobody to page, hands over at once", []))
    for position, people in step.pages[repages:]:
        how = "inform" if position in step.informed else "page"
        lines.append((f"Level {position} · {by_position[position].name} engaged: {how}", people))
    if step.skipped:
        lines.append(("Not paged again: paged less than a minute before", step.skipped))
    if key.kind == escalation.UPDATE_OVERDUE:
        miss = key.round - situation.earlier_update_misses
        whom = "commander and communications lead" if miss == 1 else "the manager"
        lines.append((f"Status update overdue (miss {miss}): {whom} told", []))
    if key.kind == escalation.RESOLVE_BREACHED:
        lines.append(("Resolve target breached: commander and manager told", []))
    if key.kind == escalation.STATUS_PAGE:
        lines.append(("Not on the status page within its window: communications lead (else commander) told", []))
    return lines
