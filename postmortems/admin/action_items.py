"""Every action item across post-mortems in the admin: due filters, the change form and the bulk
status actions. Status changes go through `postmortems.actions`, which keeps `completed_at`.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from incidents.formatting import EMPTY, badge
from oncall.admin.filters import ChoiceFilter

from .. import actions
from ..models import ActionItem
from .base import TEXT_BOXES, visible_postmortems


def _overdue(items, request):
    return items.exclude(status__in=ActionItem.FINISHED).filter(due_date__lt=timezone.localdate())


def _due_within_a_week(items, request):
    today = timezone.localdate()
    return items.exclude(status__in=ActionItem.FINISHED).filter(
        due_date__gte=today, due_date__lte=today + timezone.timedelta(days=7)
    )


class ActionItemOverdueFilter(ChoiceFilter):
    title = "due"
    parameter_name = "overdue"
    options = {"yes": ("Overdue", _overdue), "week": ("Due within 7 days", _due_within_a_week)}


def _mark_action(status: ActionItem.Status, description: str):
    """The list action that gives the selected action items `status` and says how many changed."""

    @admin.action(description=description, permissions=["change"])
    def mark_selected(model_admin, request, queryset):
        changed = actions.set_action_items_status(queryset, status)
        messages.success(request, f"{changed} action item{'s' if changed != 1 else ''} marked {status.label.lower()}.")

    return mark_selected


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ("description_short", "postmortem_link", "owner", "due_date", "due_in", "priority", "status", "horizon")
    list_display_links = ("description_short",)
    list_filter = (ActionItemOverdueFilter, "status", "priority", "horizon", ("owner", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("postmortem__incident", "owner")
    search_fields = ("description",)
    ordering = (models.F("due_date").asc(nulls_last=True), "pk")
    list_per_page = 100
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    actions = ("mark_in_progress", "mark_done", "mark_wont_do", "mark_open")
    autocomplete_fields = ("owner",)
    readonly_fields = ("postmortem_link", "created_at", "completed_at")
    fields = (
        "postmortem_link", "description", ("owner", "due_date"), ("priority", "status", "horizon"),
        "completion_criteria", "ticket_url", ("created_at", "completed_at"),
    )
    formfield_overrides = TEXT_BOXES
    empty_value_display = EMPTY

    def get_queryset(self, request):
        return ActionItem.objects.filter(postmortem__in=visible_postmortems(request.user)).select_related(
            "postmortem__incident", "owner"
        )

    def has_add_permission(self, request):
        return False  # added on their post-mortem's page

    def save_model(self, request, obj, form, change):
        actions.stamp_completion(obj)
        super().save_model(request, obj, form, change)

    @admin.display(description="action", ordering="description")
    def description_short(self, obj):
        return obj.description if len(obj.description) <= 80 else obj.description[:79] + "…"

    @admin.display(description="post-mortem", ordering="postmortem__incident__number")
    def postmortem_link(self, obj):
        url = reverse("admin:postmortems_postmortem_change", args=[quote(obj.postmortem_id)], current_app=self.admin_site.name)
        return format_html('<a href="{}">{}</a>', url, obj.postmortem.incident.reference)

    @admin.display(description="due in")
    def due_in(self, obj):
        days = obj.days_until_due
        if days is None or obj.is_finished:
            return EMPTY
        if days < 0:
            return badge(f"{-days} d overdue", "#c62828")
        return "today" if days == 0 else f"{days} d"

    mark_in_progress = _mark_action(ActionItem.Status.IN_PROGRESS, "Mark in progress")
    mark_done = _mark_action(ActionItem.Status.DONE, "Mark done")
    mark_wont_do = _mark_action(ActionItem.Status.WONT_DO, "Mark won't do")
    mark_open = _mark_action(ActionItem.Status.OPEN, "Reopen (mark open)")
