"""Admin for people, teams, on-call schedules (layers, members, overrides), calendar feeds and
escalation policies.

The schedule page shows who is on call now, the next 14 days of shifts in the viewer's zone with
overrides marked and gaps warned about, and a "Cover" button per row that opens a pre-filled
override form (click 1) that the manager saves (click 2). Every schedule read is one call to
`oncall.schedules`; feeds are made and revoked through `oncall.feeds`.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Prefetch, Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from . import actions, api_auth, feeds, forms, schedules
from .formatting import EMPTY, duration
from .forms import delay_text
from .models import (
    ApiKey,
    CalendarFeed,
    EscalationDelay,
    EscalationLevel,
    EscalationPolicy,
    Layer,
    LayerMember,
    Override,
    Schedule,
    Team,
    User,
)

OUTLOOK_DAYS = 14
PARKED = 10_000  # added to a member's position while the layer is being reordered (smallint: < 32767)
RANKS = (1, 2, 3, 4)  # matrix columns always shown (SEV-1 … SEV-4); more appear when cells use them


def local(moment: dt.datetime | None, fmt: str = "%a %d %b %H:%M") -> str:
    """A moment in the viewer's zone (activated by UserTimezoneMiddleware)."""
    return timezone.localtime(moment).strftime(fmt) if moment else EMPTY


def window_text(start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None) -> str:
    """"Mon 23 Nov 20:00 – Tue 24 Nov 08:00 (12 h)"; a window starting at `now` reads "now – …"."""
    return f"{'now' if start == now else local(start)} – {local(end)} ({duration(end - start)})"


def windows_text(windows, now: dt.datetime | None = None, most: int = 3) -> str:
    text = "; ".join(window_text(start, end, now) for start, end in windows[:most])
    return text + (f" and {len(windows) - most} more" if len(windows) > most else "")


def warning(text: str):
    return format_html('<span class="vigil-warning">⚠ {}</span>', text)


def _url(name: str, *args, query: dict | None = None) -> str:
    url = reverse(f"admin:{name}", args=[quote(a) for a in args])
    return f"{url}?{urlencode(query)}" if query else url


def _cover_url(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> str:
    return _url("oncall_override_add", query={"schedule": schedule.pk, "start": start.isoformat(), "end": end.isoformat()})


# --- People and teams ---------------------------------------------------------------------------


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = DjangoUserAdmin.fieldsets + (("Preferences", {"fields": ("time_zone",)}),)
    list_display = ("username", "email", "first_name", "last_name", "time_zone", "is_staff")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = forms.TeamForm
    change_form_template = "admin/oncall/change_form.html"
    list_display = ("name", "manager", "member_count", "working_hours")
    list_select_related = ("manager",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("members",)
    autocomplete_fields = ("manager",)
    fieldsets = (
        (None, {"fields": ("name", "slug", "description", "manager", "members")}),
        ("Working hours", {
            "fields": ("time_zone", "working_days", ("working_hours_start", "working_hours_end")),
            "description": "Escalation cells marked “business hours” wait for these.",
        }),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_member_count=Count("members"))

    @admin.display(description="Members", ordering="_member_count")
    def member_count(self, obj: Team) -> int:
        return obj._member_count

    @admin.display(description="Working hours")
    def working_hours(self, team: Team) -> str:
        days = days_text(team.working_days)
        return f"{days} {team.working_hours_start:%H:%M}–{team.working_hours_end:%H:%M} {team.time_zone}"


# --- Schedules ----------------------------------------------------------------------------------


def days_text(days: list[int]) -> str:
    """ISO weekdays as an operator writes them: "Mon–Fri", "Sat, Sun", "every day"."""
    names = dict(forms.WEEKDAYS)
    runs: list[list[int]] = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    if not runs or len(runs[0]) == 7:
        return "every day"
    return ", ".join(
        f"{names[run[0]]}–{names[run[-1]]}" if len(run) > 2 else ", ".join(names[d] for d in run) for run in runs
    )


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
            '{} · <a href="{}">edit members</a>', _members_text(layer), _url("oncall_layer_change", layer.pk)
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
        return {
            "outlook": outlook,
            "rows": _rows(outlook, can_cover),
            "gaps_text": windows_text(outlook.gaps, outlook.start, most=5),
            "layer_texts": [(layer, _rotation_text(layer), _members_text(layer)) for layer in outlook.schedule.layers.all()],
            "viewer_zone": timezone.get_current_timezone_name(),
            "add_override_url": _url("oncall_override_add", query={"schedule": schedule.pk}) if can_cover else None,
            "feeds": CalendarFeed.objects.filter(schedule=schedule, revoked_at=None).select_related("created_by"),
            "new_feed_url": _url("oncall_calendarfeed_add"),
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
            "new_feed_url": _url("oncall_calendarfeed_add"),
        }
        return TemplateResponse(request, "admin/oncall/schedule/mine.html", context)


class _Row:
    """A row of the shift table: a shift, or a gap (shift is None)."""

    def __init__(self, start, end, shift, cover_url, now=None):
        # Texts are made now, in the viewer's zone (active only during the request).
        self.start, self.end, self.shift, self.cover_url = start, end, shift, cover_url
        self.duration = duration(end - start)
        self.day = local(start, "%a %d %b")
        same_day = timezone.localtime(start).date() == timezone.localtime(end).date()
        begins = "now" if start == now else local(start, "%H:%M")
        self.times = f"{begins} – {local(end, '%H:%M' if same_day else '%a %d %b %H:%M')}"
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
        return HttpResponseRedirect(_url("oncall_schedule_change", obj.schedule_id))


class WhenFilter(admin.SimpleListFilter):
    title = "when"
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("ahead", "Now and upcoming"), ("past", "Past")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "ahead":
            return queryset.filter(end__gt=now)
        if self.value() == "past":
            return queryset.filter(end__lte=now)
        return queryset


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

    @admin.display(description="From", ordering="start")
    def starts(self, override):
        return local(override.start)

    @admin.display(description="Until", ordering="end")
    def ends(self, override):
        return local(override.end)

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
        return HttpResponseRedirect(_url("oncall_schedule_change", obj.schedule_id))


# --- Calendar feeds -----------------------------------------------------------------------------


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Every staff user manages the feeds of their own shifts and of schedules they may see;
    holders of `change_calendarfeed` (superusers) see and revoke everyone's."""

    list_display = ("feed", "subject", "created_at", "created_by", "last_used_at", "state")
    list_select_related = ("user", "schedule", "created_by")
    fields = ("token_prefix", "user", "schedule", "created_at", "created_by", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]
    ordering = ("-created_at",)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.has_perm("oncall.change_calendarfeed"):
            return queryset
        return queryset.filter(Q(user=request.user) | Q(created_by=request.user))

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return False  # a feed is made or revoked, never edited

    def has_delete_permission(self, request, obj=None):
        return False  # revoked feeds stay, so "last used" remains an answer

    @admin.display(description="Feed")
    def feed(self, feed: CalendarFeed) -> str:
        return f"{feed.token_prefix}…"

    @admin.display(description="Shifts of")
    def subject(self, feed: CalendarFeed) -> str:
        return str(feed.user) if feed.user_id else f"schedule {feed.schedule}"

    @admin.display(description="State")
    def state(self, feed: CalendarFeed):
        return f"revoked {local(feed.revoked_at)}" if feed.revoked_at else "active"

    @admin.action(description="Revoke selected feeds (their URLs stop working)")
    def revoke(self, request, queryset):
        count = feeds.revoke_feeds(queryset)
        messages.success(request, f"{count} feed{'s' if count != 1 else ''} revoked.")

    def add_view(self, request, form_url="", extra_context=None):
        """Make a feed and show its URL — once: only its hash is kept."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = forms.NewFeedForm(request.POST if request.method == "POST" else None)
        if not request.user.has_perm("oncall.view_schedule"):
            form.fields["schedule"].queryset = Schedule.objects.none()
        context = {**self.admin_site.each_context(request), "opts": self.opts, "form": form, "title": "New calendar feed"}
        if request.method == "POST" and form.is_valid():
            schedule = form.cleaned_data["schedule"]
            feed, token = feeds.create_feed(
                user=None if schedule else request.user, schedule=schedule, created_by=request.user
            )
            url = request.build_absolute_uri(reverse("oncall:calendar_feed", args=[token]))
            context.update(title="Calendar feed created", feed=feed, url=url, webcal_url="webcal://" + url.split("://", 1)[1])
        return TemplateResponse(request, "admin/oncall/calendarfeed/new.html", context)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Staff make keys that act as themselves; holders of `oncall.change_apikey` (Managers,
    superusers) see everyone's and may make keys for others. Keys are made and revoked, never
    edited: the secret is shown once, on the page that made it."""

    list_display = ("name", "key", "owner", "scope_list", "rate_limit_per_minute", "last_used_at", "state")
    list_select_related = ("owner",)
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "owner__username")
    fields = ("name", "prefix", "owner", "scopes", "rate_limit_per_minute", "created_at", "created_by", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.has_perm("oncall.change_apikey"):
            return queryset
        return queryset.filter(owner=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked keys stay on record

    @admin.display(description="Key")
    def key(self, key: ApiKey) -> str:
        return f"{key.prefix}…"

    @admin.display(description="Scopes")
    def scope_list(self, key: ApiKey) -> str:
        return ", ".join(key.scopes)

    @admin.display(description="State")
    def state(self, key: ApiKey) -> str:
        return f"revoked {local(key.revoked_at)}" if key.revoked_at else "active"

    @admin.action(description="Revoke selected keys (they stop working at once)")
    def revoke(self, request, queryset):
        count = api_auth.revoke(queryset)
        messages.success(request, f"{count} key{'s' if count != 1 else ''} revoked.")

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = forms.NewApiKeyForm(
            request.POST if request.method == "POST" else None,
            user=request.user, may_pick_owner=request.user.has_perm("oncall.change_apikey"),
        )
        context = {**self.admin_site.each_context(request), "opts": self.opts, "form": form, "title": "New API key"}
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            key, secret = api_auth.create_key(
                name=data["name"], owner=data["owner"], scopes=data["scopes"], created_by=request.user,
                rate_limit_per_minute=data["rate_limit_per_minute"],
            )
            context.update(title="API key created", key=key, secret=secret)
        return TemplateResponse(request, "admin/oncall/apikey/new.html", context)


# --- Escalation policies ------------------------------------------------------------------------


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
            context.update(ranks=ranks, matrix=rows, policy_warnings=_policy_warnings([obj])[obj.pk])
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
        return HttpResponseRedirect(_url("oncall_escalationpolicy_change", obj.policy_id))
