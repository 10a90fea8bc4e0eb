"""Admin for on-call schedules: the schedule page (who is on call, 14 days of shifts and gaps,
"Cover" buttons), one person's shifts, layers with their members, and overrides."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import F, Prefetch
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from .. import actions, cover, forms, schedules
from ..formatting import WITH_YEAR, duration
from ..models import CalendarFeed, Layer, LayerMember, Override, Schedule
from .display import OUTLOOK_DAYS, admin_url, column, days_text, local, warning, window_text, windows_text
from .filters import ChoiceFilter

PARKED = 10_000  # added to a member's position while the layer is being reordered (smallint: < 32767)


def _cover_url(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> str:
    return admin_url("oncall_override_add", query={"schedule": schedule.pk, "start": start.isoformat(), "end": end.isoformat()})


def _ask_url(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> str:
    return admin_url("oncall_coverrequest_add", query={"schedule": schedule.pk, "start": start.isoformat(), "end": end.isoformat()})


def _members_text(layer: Layer) -> str:
    members = sorted(layer.members.all(), key=lambda m: m.position)
    return ", ".join(f"{m.position}. {m.user}" for m in members) or "nobody yet"


def _rotation_text(layer: Layer) -> str:
    if layer.rotation == Layer.Rotation.HOURS:
        text = f"every {layer.rotation_hours} h from {layer.start_date:%d %b %Y} {layer.handoff_time:%H:%M}"
    elif layer.rotation == Layer.Rotation.WEEKLY:
        text = f"weekly, {layer.start_date:%A}s at {layer.handoff_time:%H:%M}, from {layer.start_date:%d %b %Y}"
    else:
        text = f"daily at {layer.handoff_time:%H:%M}, from {layer.start_date:%d %b %Y}"
    if layer.restriction_days or layer.restriction_start is not None:
        days = days_text(layer.restriction_days)
        hours = (
            f" {layer.restriction_start:%H:%M}–{layer.restriction_end:%H:%M}" if layer.restriction_start is not None else ""
        )
        text += f"; only {days}{hours}"
    return text


class LayerInline(admin.StackedInline):
    model = Layer
    form = forms.LayerForm
    extra = 0
    show_change_link = True
    readonly_fields = ("members_list",)
    fieldsets = (
        (None, {"fields": (("name", "priority"), ("rotation", "rotation_hours"), ("start_date", "handoff_time"))}),
        ("Restriction (optional)", {"fields": ("restriction_days", ("restriction_start", "restriction_end"))}),
        (None, {"fields": ("members_list",)}),
    )

    def get_queryset(self, request):
        members = LayerMember.objects.select_related("user").order_by("position")
        return super().get_queryset(request).prefetch_related(Prefetch("members", queryset=members))

    @admin.display(description="Members, in order")
    def members_list(self, layer: Layer):
        if layer.pk is None:
            return "Save the schedule, then open the layer to add its members."
        return format_html(
            '{} · <a href="{}">edit members</a>', _members_text(layer), admin_url("oncall_layer_change", layer.pk)
        )


class ScheduleChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        # Three queries for the page's schedules, however many: layers, members, overrides.
        for outlook in schedules.outlooks(self.result_list, now=timezone.now(), days=OUTLOOK_DAYS):
            outlook.schedule.outlook = outlook


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "time_zone", "on_call_now", "gap_warning")
    list_select_related = ("team",)
    list_filter = ("team",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [LayerInline]
    change_form_template = "admin/oncall/schedule/change_form.html"
    change_list_template = "admin/oncall/schedule/change_list.html"
    fieldsets = ((None, {"fields": ("name", "slug", "team", "time_zone", "description")}),)

    def get_changelist(self, request, **kwargs):
        return ScheduleChangeList

    def get_inline_instances(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return []  # read-only: the layers in words above the form say it all
        return super().get_inline_instances(request, obj)

    @admin.display(description="On call now")
    def on_call_now(self, schedule: Schedule):
        now = schedule.outlook.now
        if not now:
            return warning("nobody")
        return format_html_join(", ", "{} <span class='vigil-muted'>until {}</span>", ((s.user, local(s.end)) for s in now))

    @admin.display(description=f"Next {OUTLOOK_DAYS} days")
    def gap_warning(self, schedule: Schedule):
        found = schedule.outlook.gaps
        if not found:
            return "covered"
        plural = "s" if len(found) > 1 else ""
        return warning(f"{len(found)} gap{plural}, first {window_text(*found[0], now=schedule.outlook.start)}")

    # --- The schedule page ---

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self._schedule_page(request, obj))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def _schedule_page(self, request, schedule: Schedule) -> dict:
        outlook = schedules.outlooks([schedule], now=timezone.now(), days=OUTLOOK_DAYS)[0]
        can_cover = request.user.has_perm("oncall.add_override")
        rows = _rows(outlook, can_cover)
        if request.user.has_perm("oncall.add_coverrequest"):
            # Your own shifts (any shift, for whoever may ask on someone's behalf) can be offered.
            for row in rows:
                if row.shift is not None and (can_cover or row.shift.user.pk == request.user.pk):
                    row.ask_url = _ask_url(schedule, row.start, row.end)
        pending = cover.pending_for(schedule, outlook.start)
        return {
            "outlook": outlook,
            "rows": rows,
            "cover_requests": [(r, cover.gap_warning(r, outlook.start)) for r in pending],
            "gaps_text": windows_text(outlook.gaps, outlook.start, most=5),
            "layer_texts": [(layer, _rotation_text(layer), _members_text(layer)) for layer in outlook.schedule.layers.all()],
            "viewer_zone": timezone.get_current_timezone_name(),
            "add_override_url": admin_url("oncall_override_add", query={"schedule": schedule.pk}) if can_cover else None,
            "feeds": CalendarFeed.objects.filter(schedule=schedule, revoked_at=None).select_related("created_by"),
            "new_feed_url": admin_url("oncall_calendarfeed_add"),
        }

    # --- One person's shifts ---

    def get_urls(self):
        mine = path("mine/", self.admin_site.admin_view(self.my_shifts_view), name="oncall_schedule_mine")
        return [mine, *super().get_urls()]

    def my_shifts_view(self, request):
        """The requesting user's shifts on every schedule for the next 14 days, and their feed."""
        now = timezone.now()
        found = schedules.shifts_for_user(request.user, now, now + dt.timedelta(days=OUTLOOK_DAYS))
        context = {
            **self.admin_site.each_context(request),
            "title": f"My shifts · next {OUTLOOK_DAYS} days",
            "opts": self.opts,
            "rows": [_Row(s.start, s.end, s, None, now) for s in found],
            "viewer_zone": timezone.get_current_timezone_name(),
            "feeds": CalendarFeed.objects.filter(user=request.user, revoked_at=None),
            "new_feed_url": admin_url("oncall_calendarfeed_add"),
        }
        return TemplateResponse(request, "admin/oncall/schedule/mine.html", context)


class _Row:
    """A row of the shift table: a shift, or a gap (shift is None)."""

    def __init__(self, start, end, shift, cover_url, now=None):
        # Texts are made now, in the viewer's zone (active only during the request).
        self.start, self.end, self.shift, self.cover_url, self.ask_url = start, end, shift, cover_url, None
        self.duration = duration(end - start)
        self.day = local(start, "%a %d %b")
        first, last = timezone.localtime(start).date(), timezone.localtime(end).date()
        ends = "%H:%M" if first == last else "%a %d %b %H:%M" if first.year == last.year else WITH_YEAR
        begins = "now" if start == now else local(start, "%H:%M")
        self.times = f"{begins} – {local(end, ends)}"
        self.new_day = True


def _rows(outlook: schedules.Outlook, can_cover: bool) -> list[_Row]:
    pieces = [(s.start, s.end, s) for s in outlook.shifts] + [(start, end, None) for start, end in outlook.gaps]
    rows = []
    for start, end, shift in sorted(pieces, key=lambda piece: piece[0]):
        rows.append(_Row(start, end, shift, _cover_url(outlook.schedule, start, end) if can_cover else None, outlook.start))
        rows[-1].new_day = len(rows) == 1 or rows[-2].day != rows[-1].day
    return rows


@admin.register(Layer)
class LayerAdmin(admin.ModelAdmin):
    """A layer's own page, for its members (Django's admin does not nest inlines)."""

    form = forms.LayerForm
    change_form_template = "admin/oncall/change_form.html"
    list_display = ("__str__", "priority", "rotation")
    list_select_related = ("schedule",)
    fieldsets = (
        (None, {"fields": ("schedule", ("name", "priority"))}),
        ("Rotation", {"fields": (("rotation", "rotation_hours"), ("start_date", "handoff_time"))}),
        ("Restriction (optional)", {"fields": ("restriction_days", ("restriction_start", "restriction_end"))}),
    )

    class MemberInline(admin.TabularInline):
        model = LayerMember
        fields = ("position", "user")
        extra = 1
        autocomplete_fields = ("user",)
        verbose_name = "member"
        verbose_name_plural = "Members, in rotation order (position 1 holds the first shift)"

        def get_queryset(self, request):
            return super().get_queryset(request).select_related("user").order_by("position")

    inlines = [MemberInline]

    def get_model_perms(self, request):
        return {}  # reached from its schedule's page, not the index

    def save_formset(self, request, form, formset, change):
        if formset.model is LayerMember:
            # Reordering saves one row at a time, and a swap would trip the unique (layer, position)
            # half-way: park the renumbered rows out of the way and drop the deleted ones first.
            deleted = [f.instance.pk for f in formset.deleted_forms if f.instance.pk]
            moving = [
                f.instance.pk for f in formset.initial_forms
                if f.instance.pk not in deleted and "position" in f.changed_data
            ]
            LayerMember.objects.filter(pk__in=deleted).delete()
            LayerMember.objects.filter(pk__in=moving).update(position=F("position") + PARKED)
        super().save_formset(request, form, formset, change)

    def response_change(self, request, obj):
        if "_continue" in request.POST or "_addanother" in request.POST:
            return super().response_change(request, obj)
        messages.success(request, f"Layer “{obj.name}” saved.")
        return HttpResponseRedirect(admin_url("oncall_schedule_change", obj.schedule_id))


class WhenFilter(ChoiceFilter):
    title = "when"
    parameter_name = "when"
    options = {
        "ahead": ("Now and upcoming", lambda overrides, request: overrides.filter(end__gt=timezone.now())),
        "past": ("Past", lambda overrides, request: overrides.filter(end__lte=timezone.now())),
    }


@admin.register(Override)
class OverrideAdmin(admin.ModelAdmin):
    form = forms.OverrideForm
    list_display = ("user", "schedule", "starts", "ends", "length", "reason", "created_by")
    list_select_related = ("user", "schedule", "created_by")
    list_filter = (WhenFilter, "schedule")
    search_fields = ("reason", "user__username", "user__first_name", "user__last_name")
    autocomplete_fields = ("user",)
    ordering = ("-start",)
    date_hierarchy = "start"

    starts = column("start", "From", local, ordering="start")
    ends = column("end", "Until", local, ordering="end")

    @admin.display(description="Length")
    def length(self, override):
        return duration(override.end - override.start)

    def get_changeform_initial_data(self, request):
        """Pre-filled from a "Cover" link: the schedule and window, with the requesting user on call."""
        initial = {"user": request.user.pk}
        if "schedule" in request.GET:
            initial["schedule"] = request.GET["schedule"]
        start, end = forms.parse_instant(request.GET.get("start")), forms.parse_instant(request.GET.get("end"))
        if start and end and end > start:
            initial.update(start=start, end=end)
        return initial

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if add:
            context["subtitle"] = f"Times are in your time zone ({timezone.get_current_timezone_name()})."
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        # A new cover is made by the verb the API calls too; the form has already said what is wrong.
        made = actions.add_override(
            obj.schedule, user=obj.user, start=obj.start, end=obj.end, reason=obj.reason, created_by=request.user
        )
        obj.pk, obj.created_by, obj.created_at = made.pk, made.created_by, made.created_at
        obj._state.adding, obj._state.db = False, made._state.db

    def delete_model(self, request, obj):
        actions.remove_override(obj.pk, schedule_id=obj.schedule_id)

    def response_add(self, request, obj, post_url_continue=None):
        """Back to the schedule, where the override now shows in the table."""
        if "_continue" in request.POST or "_addanother" in request.POST or "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        messages.success(request, f"{obj.user} is on call for {obj.schedule}, {window_text(obj.start, obj.end)}.")
        return HttpResponseRedirect(admin_url("oncall_schedule_change", obj.schedule_id))
