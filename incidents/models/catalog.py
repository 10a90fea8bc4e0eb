"""The catalog incidents are declared against: severities (the response matrix), types and services.

Rows here are reference data an administrator edits; incidents point at them and never change them.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from oncall import clocks
from oncall.clocks import Clock
from oncall.formatting import duration
from oncall.models import EscalationPolicy, Named, Team
from oncall.validators import DurationWithin

from ..bridge import validate_template as validate_bridge_template

# Bounds of the response matrix: a severity outside them would page every tick (an SLA of 0 or
# less) or never (an SLA of years). Each is a field validator (the admin's form error) and a
# CheckConstraint (no other path writes such a row).
ACK_SLA_MOST = timedelta(days=7)
UPDATE_INTERVAL_MOST = timedelta(days=7)
RESOLVE_TARGET_MOST = timedelta(days=90)
OBSERVATION_PERIOD_MOST = timedelta(days=30)
HEX_COLOR = r"\A#[0-9a-fA-F]{6}\Z"  # \A…\Z: the same anchors on PostgreSQL and in Python (SQLite)

# Zero passes the field validators: it is the offset "at the start of the next business day".
# On the other clocks `SeverityLevel.clean` and the constraints refuse it.
_ACK_SLA = DurationWithin(ACK_SLA_MOST, zero_passes=True)
_UPDATE_INTERVAL = DurationWithin(UPDATE_INTERVAL_MOST, zero_passes=True)
_RESOLVE_TARGET = DurationWithin(RESOLVE_TARGET_MOST, zero_passes=True)
# Each clock field and the durations it governs.
CLOCKED = {
    "ack_sla_clock": {"ack_sla": ACK_SLA_MOST},
    "update_clock": {"first_update_interval": UPDATE_INTERVAL_MOST, "update_interval": UPDATE_INTERVAL_MOST},
    "resolve_clock": {"resolve_target": RESOLVE_TARGET_MOST},
}
_OBSERVATION_PERIOD = DurationWithin(OBSERVATION_PERIOD_MOST, zero_allowed=True)
MEAN_TARGET_MOST = timedelta(days=90)
_MEAN_TARGET = DurationWithin(MEAN_TARGET_MOST)


class DueUnit(models.TextChoices):
    """What the offset of a post-mortem due date counts."""

    BUSINESS_DAYS = "business_days", "business days"
    HOURS = "hours", "hours"


# Bounds of a post-mortem due-date offset, per unit, inclusive: 0 business days is the day the
# count starts from; hours go from 1 to 60 days' worth. Each is checked by `SeverityLevel.clean`
# (the admin's form error) and a CheckConstraint.
POSTMORTEM_DUE_BOUNDS = {DueUnit.BUSINESS_DAYS: (0, 60), DueUnit.HOURS: (1, 1440)}


def _bound_words(unit: str) -> str:
    least, most = POSTMORTEM_DUE_BOUNDS[unit]
    return f"{least} to {most} {DueUnit(unit).label}"


POSTMORTEM_DUE_WORDS = ", or ".join(_bound_words(unit) for unit in POSTMORTEM_DUE_BOUNDS)  # "0 to 60 business days, or …"
# The steps of a post-mortem with a due date, each a `postmortem_<step>_due` count and its
# `postmortem_<step>_unit`.
POSTMORTEM_STEPS = ("draft", "review", "publish")


def postmortem_due_refusal(count: int | None, unit: str) -> str | None:
    """Why `count` of `unit` is out of bounds ("Must be 0 to 60 business days."), or None."""
    if count is None or unit not in POSTMORTEM_DUE_BOUNDS:
        return None
    least, most = POSTMORTEM_DUE_BOUNDS[unit]
    return None if least <= count <= most else f"Must be {_bound_words(unit)}."


def _due_in_bounds(step: str) -> Q:
    count, unit = f"postmortem_{step}_due", f"postmortem_{step}_unit"
    within = Q()
    for each, (least, most) in POSTMORTEM_DUE_BOUNDS.items():
        within |= Q(**{unit: each, f"{count}__gte": least, f"{count}__lte": most})
    return within


def due_offset_words(count: int, unit: str) -> str:
    """"1 business day", "48 hours"."""
    label = DueUnit(unit).label
    return f"{count} {label.removesuffix('s') if count == 1 else label}"


_AFTER_THE_DRAFT = (
    "this long after the draft's due date: business days after that day (0: the same day), or hours from "
    "the end of that day (24 h: the day after)."
)


def _due_count(verbose_name: str, default: int, help_text: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        verbose_name, default=default, help_text=f"{help_text} {POSTMORTEM_DUE_WORDS}."
    )


def _due_unit(verbose_name: str) -> models.CharField:
    return models.CharField(verbose_name, max_length=13, choices=DueUnit.choices, default=DueUnit.BUSINESS_DAYS)


def _within(field: str, most: timedelta, *, zero_allowed: bool = False, clock: str = "") -> Q:
    """`field` within (0, most] — or [0, most] with `zero_allowed`, or when `clock` says "next business day"."""
    low = Q(**{f"{field}__gte": timedelta(0)}) if zero_allowed else Q(**{f"{field}__gt": timedelta(0)})
    if clock:
        low = Q(**{f"{field}__gt": timedelta(0)}) | (Q(**{f"{field}": timedelta(0)}) & Q(**{clock: Clock.NEXT_BUSINESS_DAY}))
    return low & Q(**{f"{field}__lte": most})


def _clock_field(verbose_name: str) -> models.CharField:
    return models.CharField(
        verbose_name,
        max_length=20,
        choices=Clock.choices,
        default=Clock.WALL,
        help_text="Wall clock: elapsed time. Business hours: only the owning team's working time counts "
        "(its working days and hours, less public holidays and closed days). Next business day: due at the "
        "start of the team's next working day, plus the duration as an offset in working time.",
    )


class SeverityLevel(models.Model):
    """A row of the response matrix (SEV-1 … SEV-4). Rank 1 is the most severe."""

    class PostmortemPolicy(models.TextChoices):
        REQUIRED = "required", "Required"
        OPTIONAL = "optional", "Optional"
        NONE = "none", "Not expected"

    name = models.CharField(max_length=20, unique=True, help_text="Short name, e.g. SEV-1.")
    label = models.CharField(max_length=40, help_text="e.g. Critical.")
    rank = models.PositiveSmallIntegerField(unique=True, help_text="1 is the most severe.")
    description = models.TextField(blank=True)
    color = models.CharField(
        max_length=7,
        default="#666666",
        validators=[RegexValidator(HEX_COLOR, "Give the colour as #rrggbb, e.g. #b71c1c.")],
        help_text="Badge colour, #rrggbb (e.g. #b71c1c).",
    )
    ack_sla = models.DurationField(
        "acknowledge SLA",
        validators=[_ACK_SLA],
        help_text=f"Unacknowledged this long after declaration, level 1 is paged again and the next level engaged; "
        f"{_ACK_SLA.words}. On the “next business day” clock, an offset after the day's start (0: at the start).",
    )
    ack_sla_clock = _clock_field("acknowledge SLA counts on")
    first_update_interval = models.DurationField(
        validators=[_UPDATE_INTERVAL],
        help_text=f"First status update due this long after declaration; {_UPDATE_INTERVAL.words}.",
    )
    update_interval = models.DurationField(
        validators=[_UPDATE_INTERVAL],
        help_text=f"Later status updates due this long after the previous one; {_UPDATE_INTERVAL.words}.",
    )
    update_clock = _clock_field("updates count on")
    resolve_target = models.DurationField(
        validators=[_RESOLVE_TARGET],
        help_text=f"Resolved within this long after declaration; {_RESOLVE_TARGET.words}.",
    )
    resolve_clock = _clock_field("resolve target counts on")
    # Targets of the period figures (incidents.metrics): the mean time to acknowledge and to resolve
    # this severity's incidents should stay within them. Seeded equal to the acknowledge SLA and the
    # resolve target; kept apart because a manager's goal for the mean is not the paging deadline.
    mtta_target = models.DurationField(
        "MTTA target",
        null=True,
        blank=True,
        validators=[_MEAN_TARGET],
        help_text=f"The mean time to acknowledge this severity's incidents should stay within this; "
        f"{_MEAN_TARGET.words}. Empty: no target.",
    )
    mttr_target = models.DurationField(
        "MTTR target",
        null=True,
        blank=True,
        validators=[_MEAN_TARGET],
        help_text=f"The mean time to resolve this severity's incidents should stay within this; "
        f"{_MEAN_TARGET.words}. Empty: no target.",
    )
    observation_period = models.DurationField(
        default=timedelta(0),
        validators=[_OBSERVATION_PERIOD],
        help_text=f"How long a resolved incident is watched before it may be closed; {_OBSERVATION_PERIOD.words}.",
    )
    postmortem_policy = models.CharField(max_length=10, choices=PostmortemPolicy.choices)
    # Each due date of the post-mortem as an offset: the draft's from the resolution, the review's
    # and the publication's from the draft's due date (a procedure says "review 3 days after the draft").
    postmortem_draft_due = _due_count(
        "post-mortem draft due after", 5,
        "The draft is due this long after the incident's resolution. Business days: the team's working days "
        "less its public holidays and closed days, counted from the day of the resolution in the owner's zone "
        "(0: that day). Hours: due on the day the last hour ends, in the owner's zone.",
    )
    postmortem_draft_unit = _due_unit("draft due counted in")
    postmortem_review_due = _due_count("post-mortem review due after", 2, f"The review meeting is due {_AFTER_THE_DRAFT}")
    postmortem_review_unit = _due_unit("review due counted in")
    postmortem_publish_due = _due_count("post-mortem published after", 5, f"The post-mortem is due published {_AFTER_THE_DRAFT}")
    postmortem_publish_unit = _due_unit("publication due counted in")
    show_on_status_page = models.BooleanField(default=False)
    status_page_window = models.DurationField(
        null=True,
        blank=True,
        help_text="How soon after declaration a customer-facing incident should be public on the status page: "
        "0 publishes it at declaration; a longer window reminds the communications lead when it passes "
        "unpublished. Empty: publishing is optional and nobody is reminded.",
    )
    notify_customers = models.BooleanField(default=False)
    opens_war_room = models.BooleanField(
        "opens a war room",
        default=False,
        help_text="Declaring an incident of this severity opens a chat channel for it and invites the responders "
        "(when a chat workspace is connected).",
    )
    resolution_requires_summary = models.BooleanField(
        "resolving needs a summary",
        default=False,
        help_text="Resolving an incident of this severity is refused until it has a resolution summary: what was "
        "wrong, what fixed it, and what customers saw.",
    )

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(
                condition=_within("ack_sla", ACK_SLA_MOST, clock="ack_sla_clock"), name="severity_ack_sla_in_bounds"
            ),
            models.CheckConstraint(
                condition=_within("first_update_interval", UPDATE_INTERVAL_MOST, clock="update_clock"),
                name="severity_first_update_in_bounds",
            ),
            models.CheckConstraint(
                condition=_within("update_interval", UPDATE_INTERVAL_MOST, clock="update_clock"),
                name="severity_update_interval_in_bounds",
            ),
            models.CheckConstraint(
                condition=_within("resolve_target", RESOLVE_TARGET_MOST, clock="resolve_clock"),
                name="severity_resolve_target_in_bounds",
            ),
            models.CheckConstraint(
                condition=_within("observation_period", OBSERVATION_PERIOD_MOST, zero_allowed=True),
                name="severity_observation_period_in_bounds",
            ),
            models.CheckConstraint(condition=Q(color__regex=HEX_COLOR), name="severity_color_is_hex"),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{field}__isnull": True}) | _within(field, MEAN_TARGET_MOST),
                    name=f"severity_{field}_in_bounds",
                )
                for field in ("mtta_target", "mttr_target")
            ),
            *(
                models.CheckConstraint(condition=_due_in_bounds(step), name=f"severity_postmortem_{step}_due_in_bounds")
                for step in POSTMORTEM_STEPS
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.label}"

    def clean(self) -> None:
        super().clean()
        errors = {}
        for clock, durations in CLOCKED.items():
            if getattr(self, clock) == Clock.NEXT_BUSINESS_DAY:
                continue
            for name, most in durations.items():
                if getattr(self, name) == timedelta(0):
                    errors[name] = DurationWithin(most).message
        for step in POSTMORTEM_STEPS:
            refusal = postmortem_due_refusal(getattr(self, f"postmortem_{step}_due"), getattr(self, f"postmortem_{step}_unit"))
            if refusal:
                errors[f"postmortem_{step}_due"] = refusal
        if errors:
            raise ValidationError(errors)

    @property
    def counts_working_time(self) -> bool:
        """Whether any of its targets counts on a working calendar (else all on the wall clock)."""
        return any(clock != Clock.WALL for clock in (self.ack_sla_clock, self.update_clock, self.resolve_clock))

    # The targets in words, on their clocks: "5 min", "30 min of business hours", "next business day".
    @property
    def ack_sla_text(self) -> str:
        return clocks.describe(self.ack_sla_clock, self.ack_sla, duration)

    @property
    def first_update_text(self) -> str:
        return clocks.describe(self.update_clock, self.first_update_interval, duration)

    @property
    def update_interval_text(self) -> str:
        return clocks.describe(self.update_clock, self.update_interval, duration)

    def update_cadence_text(self, lead: str = "every", first: bool = False) -> str:
        """The update cadence as a sentence needs it: "every 2 h of business hours", "within 15 min"
        — or "by the next business day (+ 2 h)", which no "every" or "within" fits."""
        text = self.first_update_text if first else self.update_interval_text
        return f"by the {text}" if self.update_clock == Clock.NEXT_BUSINESS_DAY else f"{lead} {text}"

    @property
    def first_update_due_text(self) -> str:
        """When the first update is due: "within 5 min of declaration", "by the next business day after declaration"."""
        cadence = self.update_cadence_text("within", first=True)
        return f"{cadence} {'after' if self.update_clock == Clock.NEXT_BUSINESS_DAY else 'of'} declaration"

    @property
    def resolve_target_text(self) -> str:
        return clocks.describe(self.resolve_clock, self.resolve_target, duration)

    @property
    def postmortem_due_text(self) -> str:
        """The post-mortem's due dates in words: "draft 48 hours · review +3 business days · published +5 business days"."""
        draft, review, publish = (
            due_offset_words(getattr(self, f"postmortem_{step}_due"), getattr(self, f"postmortem_{step}_unit"))
            for step in POSTMORTEM_STEPS
        )
        return f"draft {draft} · review +{review} · published +{publish}"

    @property
    def requires_postmortem(self) -> bool:
        return self.postmortem_policy == self.PostmortemPolicy.REQUIRED


class MetricTargets(models.Model):
    """The targets of the figures no severity owns (one row, edited in the admin): detection and
    post-mortem completion. Read with `MetricTargets.load()`."""

    mttd_target = models.DurationField(
        "MTTD target",
        default=timedelta(minutes=5),
        validators=[_MEAN_TARGET],
        help_text=f"The mean time to detect (declared, or first alert, minus detected) should stay within this; "
        f"{_MEAN_TARGET.words}.",
    )
    postmortem_completion_target = models.PositiveSmallIntegerField(
        "post-mortem completion target (%)",
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="The share of required post-mortems published by their due date should reach this; 1 to 100 %.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "metric targets"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="metric_targets_one_row"),
            models.CheckConstraint(condition=_within("mttd_target", MEAN_TARGET_MOST), name="metric_targets_mttd_in_bounds"),
            models.CheckConstraint(
                condition=Q(postmortem_completion_target__gte=1, postmortem_completion_target__lte=100),
                name="metric_targets_completion_is_a_share",
            ),
        ]

    def __str__(self) -> str:
        return "Metric targets"

    @classmethod
    def load(cls) -> MetricTargets:
        """The one row (the defaults if it was never saved)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class IncidentType(models.Model):
    """A class of incident from the procedures, with its symptoms and first-response checklist."""

    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    symptoms = models.TextField(blank=True, help_text="How this kind of incident shows itself.")
    checklist = models.JSONField(
        default=list,
        blank=True,
        help_text="Initial actions, one string each; they become the incident's task list.",
    )
    restricted_by_default = models.BooleanField(
        default=False, help_text="Incidents of this type start restricted to their participants."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Service(Named):
    """The service catalog: what can break, who owns it, how to fix it."""

    owning_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="services")
    description = models.TextField(blank=True)
    runbook_url = models.URLField(blank=True)
    runbook = models.TextField(blank=True, help_text="Markdown.")
    depends_on = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="dependents")
    customer_facing = models.BooleanField(default=False)
    call_bridge_url = models.CharField(
        "call bridge URL",
        max_length=500,
        blank=True,
        validators=[validate_bridge_template],
        help_text="A room per incident, e.g. https://meet.jit.si/acme-{reference}. Placeholders: {number}, "
        "{reference}, {slug}. Empty: the global call bridge (VIGIL_CALL_BRIDGE_URL), if any.",
    )
    escalation_policy = models.ForeignKey(
        EscalationPolicy,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
        help_text="Who is paged for its incidents. Empty: the default policy.",
    )
