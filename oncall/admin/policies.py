"""Admin for escalation policies: the matrix of levels × severities, warnings about levels with
nobody to page, and each level's delay per severity."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from .. import forms, schedules
from ..formatting import EMPTY
from ..forms import delay_text
from ..models import EscalationDelay, EscalationLevel, EscalationPolicy
from ..ranks import labels as rank_labels
from .display import OUTLOOK_DAYS, admin_url, warning, windows_text

RANKS = (1, 2, 3, 4)  # matrix columns always shown (SEV-1 … SEV-4); more appear when cells use them


class EscalationLevelInline(admin.TabularInline):
    model = EscalationLevel
    fields = ("position", "name", "lasts", "users", "schedules")
    autocomplete_fields = ("users", "schedules")
    extra = 0
    show_change_link = True
    verbose_name_plural = "Levels (open a level to set its delay per severity)"


def _matrix(levels: list[EscalationLevel]) -> tuple[list[int], list[dict]]:
    """The escalation matrix as rows of text: levels × severity ranks; "—" = never engaged."""
    ranks = sorted(set(RANKS) | {cell.severity_rank for level in levels for cell in level.delays.all()})
    rows = []
    for level in levels:
        cells = {cell.severity_rank: cell for cell in level.delays.all()}
        targets = [str(u) for u in level.users.all()] + [f"on call: {s.name}" for s in level.schedules.all()]
        rows.append({
            "level": level,
            "targets": ", ".join(targets) or "no targets yet",
            "lasts": level.get_lasts_display(),
            "cells": [delay_text(cells[r].delay, cells[r].business_hours) if r in cells else EMPTY for r in ranks],
        })
    return ranks, rows


def _policy_warnings(policies: list[EscalationPolicy]) -> dict[int, list[str]]:
    """For each policy, a line per level target that has nobody on call somewhere in the next 14 days."""
    used = {s.pk: s for p in policies for level in p.levels.all() for s in level.schedules.all()}
    outlook_of = {o.schedule.pk: o for o in schedules.outlooks(list(used.values()), now=timezone.now(), days=OUTLOOK_DAYS)}
    warnings: dict[int, list[str]] = {}
    for policy in policies:
        lines = warnings.setdefault(policy.pk, [])
        for level in policy.levels.all():
            if not level.users.all() and not level.schedules.all():
                lines.append(f"Level {level.position} ({level.name}) has no one to page.")
            for schedule in level.schedules.all():
                now, found = outlook_of[schedule.pk].start, outlook_of[schedule.pk].gaps
                if found:
                    lines.append(
                        f"Level {level.position} ({level.name}) pages “{schedule.name}”, which has nobody on call "
                        f"{windows_text(found, now)}."
                    )
    return warnings


def _levels_prefetch() -> Prefetch:
    return Prefetch(
        "levels",
        queryset=EscalationLevel.objects.order_by("position").prefetch_related("delays", "users", "schedules"),
    )


class PolicyChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        warnings = _policy_warnings(list(self.result_list))
        for policy in self.result_list:
            policy.warnings = warnings[policy.pk]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "is_default", "loop_count", "level_count", "warnings_column")
    list_select_related = ("team",)
    search_fields = ("name",)
    inlines = [EscalationLevelInline]
    change_form_template = "admin/oncall/escalationpolicy/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(_levels_prefetch())

    def get_changelist(self, request, **kwargs):
        return PolicyChangeList

    @admin.display(description="Levels")
    def level_count(self, policy):
        return len(policy.levels.all())

    @admin.display(description=f"Warnings (next {OUTLOOK_DAYS} days)")
    def warnings_column(self, policy):
        if not policy.warnings:
            return EMPTY
        return format_html_join(mark_safe("<br>"), "{}", ((warning(text),) for text in policy.warnings))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            levels = list(obj.levels.all())
            ranks, rows = _matrix(levels)
            context.update(ranks=ranks, rank_headers=rank_labels(ranks), matrix=rows, policy_warnings=_policy_warnings([obj])[obj.pk])
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


@admin.register(EscalationLevel)
class EscalationLevelAdmin(admin.ModelAdmin):
    """A level's page: its targets and its delay per severity (one cell per rank)."""

    change_form_template = "admin/oncall/change_form.html"
    list_display = ("__str__", "policy", "position", "name", "lasts")
    list_select_related = ("policy",)
    list_filter = ("policy",)
    fields = ("policy", "position", "name", "lasts", "users", "schedules")
    autocomplete_fields = ("users", "schedules")

    class DelayInline(admin.TabularInline):
        model = EscalationDelay
        form = forms.EscalationDelayForm
        verbose_name = "delay"
        verbose_name_plural = "Delay per severity (no row for a rank = never engaged for it)"

        def get_extra(self, request, obj=None, **kwargs):
            return max(len(RANKS) - (obj.delays.count() if obj else 0), 0)

    inlines = [DelayInline]

    def get_model_perms(self, request):
        return {}  # reached from its policy's page, not the index

    def response_change(self, request, obj):
        if "_continue" in request.POST or "_addanother" in request.POST:
            return super().response_change(request, obj)
        messages.success(request, f"Level “{obj.name}” saved.")
        return HttpResponseRedirect(admin_url("oncall_escalationpolicy_change", obj.policy_id))
