"""Who can be reached: people, teams, on-call schedules and escalation policies."""

import datetime as dt
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from .clocks import holiday_countries, holiday_subdivisions
from .validators import DurationWithin

# Bounds of the escalation matrix (validators for the admin, CheckConstraints for every path):
# a policy re-pages level 1 at least once and at most ten times; a level is engaged at once or
# within 30 days of declaration.
LOOP_COUNT_LEAST, LOOP_COUNT_MOST = 1, 10
ESCALATION_DELAY_MOST = dt.timedelta(days=30)
_ESCALATION_DELAY = DurationWithin(ESCALATION_DELAY_MOST, zero_allowed=True)


def list_of_weekdays() -> list[int]:
    return [1, 2, 3, 4, 5]


NO_WORKING_DAYS = "Tick the days the team works (all seven for a team that works every day)."


def validate_working_days(value) -> None:
    """At least one ISO weekday: "none" would read as every day, so a team that works every day says so."""
    if not isinstance(value, list) or not value:
        raise ValidationError(NO_WORKING_DAYS)
    if any(isinstance(day, bool) or day not in range(1, 8) for day in value):
        raise ValidationError("Working days are ISO weekday numbers, 1 = Monday … 7 = Sunday.")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known IANA time zone (e.g. Europe/London).")


class Named(models.Model):
    """A row people pick by name (a team, a schedule, a service, a stakeholder group): a unique
    name, a unique slug for URLs and seed data, listed and shown by name."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Created(models.Model):
    """Who made a row and when; the row outlives its maker's account."""

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        abstract = True


class User(AbstractUser):
    """A Vigil user. Times are stored in UTC and shown in `time_zone`."""

    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="IANA name, e.g. Europe/London. Times in Vigil are shown in this zone.",
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Team(Named):
    """An engineering team: owns services, has a manager to escalate to."""

    description = models.TextField(blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")

    # Working hours: "business hours" escalation cells wait for these.
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    working_days = models.JSONField(
        default=list_of_weekdays,
        validators=[validate_working_days],
        error_messages={"blank": NO_WORKING_DAYS},
        help_text="ISO weekday numbers, 1 = Monday … 7 = Sunday; at least one (a team that works every day lists all seven).",
    )
    working_hours_start = models.TimeField(default=dt.time(9, 0))
    working_hours_end = models.TimeField(
        default=dt.time(17, 0),
        help_text="In the team's zone. An end before the start crosses midnight (a night team); "
        "an end equal to the start means all day (24 h).",
    )
    holiday_country = models.CharField(
        "public holidays of",
        max_length=3,
        blank=True,
        choices=holiday_countries,
        help_text="Business-hours clocks skip this country's public holidays. Empty: none are skipped.",
    )
    holiday_subdivision = models.CharField(
        "region",
        max_length=10,
        blank=True,
        help_text="A state, province or nation of the country with holidays of its own, by its code "
        "(e.g. ENG, SCT for the United Kingdom; BY for Germany's Bavaria).",
    )

    def clean(self) -> None:
        super().clean()
        if self.holiday_subdivision and not self.holiday_country:
            raise ValidationError({"holiday_subdivision": "Choose the country whose region this is first."})
        if self.holiday_country:
            known = holiday_subdivisions(self.holiday_country)
            if self.holiday_subdivision and self.holiday_subdivision not in known:
                raise ValidationError(
                    {"holiday_subdivision": f"Not a region of {self.get_holiday_country_display()}: "
                     f"choose one of {', '.join(known) or '(it has none: leave this empty)'}."}
                )


class ClosedDay(models.Model):
    """A day a team does not work beyond its public holidays (a company shutdown, a local
    holiday): business-hours clocks skip it. Without a team, it closes the day for every team."""

    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="closed_days",
        help_text="Empty: closed for every team.",
    )
    date = models.DateField(help_text="The local day, in the team's zone.")
    name = models.CharField(max_length=100, help_text="e.g. Company shutdown.")

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["team", "date"], name="closed_day_once_per_team"),
            models.UniqueConstraint(fields=["date"], condition=Q(team__isnull=True), name="closed_day_once_for_all"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%a %d %b %Y} · {self.name}" + ("" if self.team_id else " (every team)")


class Schedule(Named):
    """An on-call schedule: layers of rotations in one time zone, plus overrides."""

    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="schedules")
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone], help_text="Hand-offs and restrictions are in this zone."
    )
    description = models.TextField(blank=True)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Layer(models.Model):
    """A rotation: members take turns, one rotation length each, handing off at a local time.

    Higher `priority` layers cover lower ones wherever they have someone on call.
    """

    class Rotation(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        HOURS = "hours", "Every N hours"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=100)
    priority = models.PositiveSmallIntegerField(default=1, help_text="Higher layers cover lower ones.")
    rotation = models.CharField(max_length=10, choices=Rotation.choices, default=Rotation.WEEKLY)
    rotation_hours = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Shift length for 'every N hours'.")
    start_date = models.DateField(help_text="The first shift starts on this date at the hand-off time (schedule's zone).")
    handoff_time = models.TimeField(default=dt.time(9, 0))
    # Optional restriction: the layer only covers these days and hours (e.g. weekdays 09:00–17:00).
    restriction_days = models.JSONField(
        default=list, blank=True, help_text="ISO weekdays covered (1 = Monday); empty = every day."
    )
    restriction_start = models.TimeField(null=True, blank=True)
    restriction_end = models.TimeField(null=True, blank=True, help_text="May be before the start: the window crosses midnight.")

    class Meta:
        ordering = ["schedule", "-priority"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "priority"], name="layer_priority_unique_per_schedule"),
            models.CheckConstraint(
                condition=~Q(rotation="hours") | Q(rotation_hours__gte=1), name="layer_hours_rotation_has_length"
            ),
            models.CheckConstraint(
                condition=Q(restriction_start__isnull=True, restriction_end__isnull=True)
                | Q(restriction_start__isnull=False, restriction_end__isnull=False),
                name="layer_restriction_window_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schedule} · {self.name}"


class LayerMember(models.Model):
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="layer_memberships")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["layer", "position"]
        constraints = [models.UniqueConstraint(fields=["layer", "position"], name="layer_member_position_unique")]

    def __str__(self) -> str:
        return f"{self.position}. {self.user}"


class Override(Created):
    """Someone else is on call for a window (holiday cover, shift swap); beats every layer."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="overrides")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["schedule", "end", "start"], name="override_schedule_window")]
        constraints = [models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="override_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.user} on {self.schedule} {self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M} UTC"


class CalendarFeed(Created):
    """A secret iCalendar URL for one person's or one schedule's shifts. The token is stored
    hashed; revoking it (or making a new one) ends old subscriptions."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    schedule = models.ForeignKey(Schedule, null=True, blank=True, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=8, help_text="The first characters, to tell feeds apart.")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, schedule__isnull=True) | Q(user__isnull=True, schedule__isnull=False),
                name="calendar_feed_for_a_user_or_a_schedule",
            )
        ]

    def __str__(self) -> str:
        return f"Calendar feed {self.token_prefix}… for {self.user or self.schedule}"


class EscalationPolicy(models.Model):
    """Who is paged and told, in order, while an incident is unresolved: the escalation matrix."""

    name = models.CharField(max_length=100, unique=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="escalation_policies")
    description = models.TextField(blank=True)
    loop_count = models.PositiveSmallIntegerField(
        default=3,
        validators=[
            MinValueValidator(LOOP_COUNT_LEAST, f"Re-page at least {LOOP_COUNT_LEAST} time."),
            MaxValueValidator(LOOP_COUNT_MOST, f"Re-page at most {LOOP_COUNT_MOST} times."),
        ],
        help_text="How many times an unacknowledged incident re-pages level 1 (and engages the next level early), "
        f"one acknowledge-SLA period apart; {LOOP_COUNT_LEAST} to {LOOP_COUNT_MOST}.",
    )
    is_default = models.BooleanField(default=False, help_text="Used for services without a policy of their own.")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "escalation policies"
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_escalation_policy"),
            models.CheckConstraint(
                condition=Q(loop_count__gte=LOOP_COUNT_LEAST, loop_count__lte=LOOP_COUNT_MOST),
                name="escalation_policy_loop_count_in_bounds",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EscalationLevel(models.Model):
    """One step of a policy: its targets (people and/or whoever is on call on schedules), and
    how long it lasts once engaged."""

    class Lasts(models.TextChoices):
        # Paged when its delay elapses, re-paged every acknowledge-SLA period; acknowledging stops it.
        UNTIL_ACKNOWLEDGED = "until_acknowledged", "Page until acknowledged"
        # Engaged by elapsed time while unresolved; after acknowledgement it is informed, not paged.
        UNTIL_RESOLVED = "until_resolved", "Inform until resolved"

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveSmallIntegerField(help_text="1 is engaged first.")
    name = models.CharField(max_length=100, help_text="e.g. On-call engineer, Team lead, Engineering manager.")
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="escalation_levels")
    schedules = models.ManyToManyField(
        Schedule, blank=True, related_name="escalation_levels", help_text="Whoever is on call on these when engaged."
    )
    lasts = models.CharField(
        max_length=20,
        choices=Lasts.choices,
        default=Lasts.UNTIL_ACKNOWLEDGED,
        help_text="Page until acknowledged (on-call engineers: re-paged until someone acknowledges), or inform "
        "until resolved (management: brought in by how long the incident has run; after acknowledgement "
        "told who acknowledged and who commands, never paged).",
    )

    class Meta:
        ordering = ["policy", "position"]
        constraints = [models.UniqueConstraint(fields=["policy", "position"], name="escalation_level_position_unique")]

    def __str__(self) -> str:
        return f"{self.policy} · {self.position}. {self.name}"


class EscalationDelay(models.Model):
    """A cell of the matrix: when a level is engaged for incidents of one severity, counted from
    declaration. No cell for a severity means the level is never engaged for it.

    Severities live in `incidents` (a layer above), so a cell names the severity by rank
    (1 = the most severe, SEV-1).
    """

    level = models.ForeignKey(EscalationLevel, on_delete=models.CASCADE, related_name="delays")
    severity_rank = models.PositiveSmallIntegerField()
    delay = models.DurationField(
        validators=[_ESCALATION_DELAY], help_text=f"Counted from declaration; {_ESCALATION_DELAY.words}."
    )
    business_hours = models.BooleanField(
        default=False, help_text="If the delay ends outside the team's working hours, wait for the next working-hours start."
    )

    class Meta:
        ordering = ["level", "severity_rank"]
        constraints = [
            models.UniqueConstraint(fields=["level", "severity_rank"], name="escalation_delay_one_per_severity"),
            models.CheckConstraint(
                condition=Q(delay__gte=dt.timedelta(0), delay__lte=ESCALATION_DELAY_MOST),
                name="escalation_delay_in_bounds",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.level} · rank {self.severity_rank}: {self.delay}" + (" (business hours)" if self.business_hours else "")


class ApiKey(Created):
    """A credential for the JSON API: acts as its owner (their permissions and visibility),
    limited to its scopes. Shown once when made; only its SHA-256 is kept."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Write"
        INGEST = "ingest", "Ingest alerts"
        CHAT = "chat", "Chat commands"

    name = models.CharField(max_length=100, help_text="What uses it, e.g. Slack bot, Alertmanager.")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=16, editable=False, help_text="The key's first characters, to tell keys apart.")
    scopes = models.JSONField(default=list, help_text="Any of read, write, ingest, chat.")
    rate_limit_per_minute = models.PositiveIntegerField(default=600, help_text="Requests per minute before 429.")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    def clean(self) -> None:
        unknown = set(self.scopes or []) - set(self.Scope.values)
        if unknown:
            raise ValidationError({"scopes": f"Unknown scopes: {', '.join(sorted(unknown))}; use {', '.join(self.Scope.values)}."})
        if not self.scopes:
            raise ValidationError({"scopes": "Give the key at least one scope."})


from .cover_models import CoverRequest  # noqa: E402, F401  (its own module; Django finds models here)
