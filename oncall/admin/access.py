"""Admin for who uses Vigil and how they reach it: people, teams and their working hours, calendar
feeds of shifts and API keys (both made here and shown once)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from .. import api_auth, feeds, forms
from .. import working_hours as calendars
from ..models import ApiKey, CalendarFeed, ClosedDay, Schedule, Team, User
from .display import days_text, local
from .secrets import add_view_shown_once


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = DjangoUserAdmin.fieldsets + (("Preferences", {"fields": ("time_zone",)}),)
    list_display = ("username", "email", "first_name", "last_name", "time_zone", "is_staff")


class ClosedDayInline(admin.TabularInline):
    model = ClosedDay
    extra = 0
    fields = ("date", "name")
    verbose_name = "closed day"
    verbose_name_plural = "Closed days of this team (beyond public holidays)"


@admin.register(ClosedDay)
class ClosedDayAdmin(admin.ModelAdmin):
    """Closed days for every team (a company shutdown) or one team; teams also list their own."""

    list_display = ("date", "name", "team_name")
    list_filter = (("team", admin.RelatedOnlyFieldListFilter),)
    date_hierarchy = "date"

    @admin.display(description="Team", ordering="team__name")
    def team_name(self, day: ClosedDay) -> str:
        return day.team.name if day.team_id else "every team"


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
            "description": "Escalation cells marked “business hours” wait for these, and severity targets "
            "on the “business hours” or “next business day” clock count them.",
        }),
        ("Days off", {
            "fields": (("holiday_country", "holiday_subdivision"), "days_off"),
            "description": "Business-hours clocks skip the country's public holidays and the closed days below.",
        }),
    )
    readonly_fields = ("days_off",)
    inlines = [ClosedDayInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_member_count=Count("members"))

    @admin.display(description="Members", ordering="_member_count")
    def member_count(self, obj: Team) -> int:
        return obj._member_count

    @admin.display(description="Days off in the next 90 days")
    def days_off(self, team: Team) -> str:
        """What the business-hours clocks will skip, so an admin can check the country and region."""
        if team.pk is None:
            return "Shown once the team is saved."
        today = timezone.localdate(timezone=zoneinfo.ZoneInfo(team.time_zone))
        days = calendars.days_off(team, today, today + dt.timedelta(days=90))
        return format_html_join(mark_safe("<br>"), "{} · {}", ((f"{day:%a %d %b %Y}", name) for day, name in days)) or "None"

    @admin.display(description="Working hours")
    def working_hours(self, team: Team) -> str:
        days = days_text(team.working_days)
        return f"{days} {team.working_hours_start:%H:%M}–{team.working_hours_end:%H:%M} {team.time_zone}"


# --- Calendar feeds and API keys ----------------------------------------------------------------


def _revoke_action(revoke: Callable[[QuerySet], int], noun: str, description: str):
    """The list action that revokes the selected feeds or keys through `revoke` and says how many."""

    @admin.action(description=description)
    def revoke_selected(model_admin, request, queryset):
        count = revoke(queryset)
        messages.success(request, f"{count} {noun}{'s' if count != 1 else ''} revoked.")

    return revoke_selected


class _MadeAndRevokedAdmin(admin.ModelAdmin):
    """Feeds and keys: every active staff user makes their own. They are made or revoked, never
    edited, and revoked ones stay on record, so "last used" remains an answer."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="State")
    def state(self, obj: ApiKey | CalendarFeed) -> str:
        return f"revoked {local(obj.revoked_at)}" if obj.revoked_at else "active"


@admin.register(CalendarFeed)
class CalendarFeedAdmin(_MadeAndRevokedAdmin):
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

    @admin.display(description="Feed")
    def feed(self, feed: CalendarFeed) -> str:
        return f"{feed.token_prefix}…"

    @admin.display(description="Shifts of")
    def subject(self, feed: CalendarFeed) -> str:
        return str(feed.user) if feed.user_id else f"schedule {feed.schedule}"

    revoke = _revoke_action(feeds.revoke_feeds, "feed", "Revoke selected feeds (their URLs stop working)")

    def add_view(self, request, form_url="", extra_context=None):
        """Make a feed and show its URL — once: only its hash is kept."""

        def feed_form(data):
            form = forms.NewFeedForm(data)
            if not request.user.has_perm("oncall.view_schedule"):
                form.fields["schedule"].queryset = Schedule.objects.none()
            return form

        def make(data):
            schedule = data["schedule"]
            feed, token = feeds.create_feed(user=None if schedule else request.user, schedule=schedule, created_by=request.user)
            url = request.build_absolute_uri(reverse("oncall:calendar_feed", args=[token]))
            return {"title": "Calendar feed created", "feed": feed, "url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}

        return add_view_shown_once(
            self, request, "admin/oncall/calendarfeed/new.html", title="New calendar feed", form=feed_form, make=make
        )


@admin.register(ApiKey)
class ApiKeyAdmin(_MadeAndRevokedAdmin):
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

    @admin.display(description="Key")
    def key(self, key: ApiKey) -> str:
        return f"{key.prefix}…"

    @admin.display(description="Scopes")
    def scope_list(self, key: ApiKey) -> str:
        return ", ".join(key.scopes)

    revoke = _revoke_action(api_auth.revoke, "key", "Revoke selected keys (they stop working at once)")

    def add_view(self, request, form_url="", extra_context=None):
        def key_form(data):
            may_pick_owner = request.user.has_perm("oncall.change_apikey")
            return forms.NewApiKeyForm(data, user=request.user, may_pick_owner=may_pick_owner)

        def make(data):
            key, secret = api_auth.create_key(
                name=data["name"], owner=data["owner"], scopes=data["scopes"], created_by=request.user,
                rate_limit_per_minute=data["rate_limit_per_minute"],
            )
            return {"title": "API key created", "key": key, "secret": secret}

        return add_view_shown_once(self, request, "admin/oncall/apikey/new.html", title="New API key", form=key_form, make=make)
