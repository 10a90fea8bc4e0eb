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

from . import actions
from .admin import _TEXTAREA, _visible_postmortems
from .models import ActionItem


class ActionItemOverdueFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("week", "Due within 7 days")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        unfinished = queryset.exclude(status__in=ActionItem.FINISHED)
        if self.value() == "yes":
            return unfinished.filter(due_date__lt=today)
        if self.value() == "week":
            return unfinished.filter(due_date__gte=today, due_date__lte=today + timezone.timedelta(days=7))
        return queryset


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
    formfield_overrides = _TEXTAREA
    empty_value_display = EMPTY

    def get_queryset(self, request):
        return ActionItem.objects.filter(postmortem__in=_visible_postmortems(request.user)).select_related(
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

    def _mark(self, request, queryset, status):
        changed = actions.set_action_items_status(queryset, status)
        messages.success(request, f"{changed} action item{'s' if changed != 1 else ''} marked {ActionItem.Status(status).label.lower()}.")

    @admin.action(description="Mark in progress", permissions=["change"])
    def mark_in_progress(self, request, queryset):
        self._mark(request, queryset, ActionItem.Status.IN_PROGRESS)

    @admin.action(description="Mark done", permissions=["change"])
    def mark_done(self, request, queryset):
        self._mark(request, queryset, ActionItem.Status.DONE)

    @admin.action(description="Mark won't do", permissions=["change"])
    def mark_wont_do(self, request, queryset):
        self._mark(request, queryset, ActionItem.Status.WONT_DO)

    @admin.action(description="Reopen (mark open)", permissions=["change"])
    def mark_open(self, request, queryset):
        self._mark(request, queryset, ActionItem.Status.OPEN)
