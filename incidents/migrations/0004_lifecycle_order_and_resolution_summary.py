"""Lifecycle instants in order, and a resolution summary required per severity.

An incident's lifecycle instants may not be out of order: detected ≤ declared ≤ acknowledged,
declared ≤ mitigated, and acknowledged, mitigated ≤ resolved ≤ closed, compared where both are set
(not acknowledged → mitigated: resolving an unacknowledged incident stamps its mitigation, and a
reopen acknowledges it later). Before the constraints are added, existing rows are checked:

- only the detection time was ever typed, so it is the one repaired. Detected up to 5 minutes after
  the declaration (a skewed clock, which declaring used to accept) becomes the declaration time;
  later than that, or more than 30 days before the declaration (the default
  VIGIL_MAX_DETECTION_LEAD_DAYS: "1900-01-01" made a 46,360-day incident), it is cleared, so the
  incident's durations count from its declaration again. Each repair is said on the incident's
  timeline and printed, naming the incident.
- the other instants were stamped by the actions; a row where they are out of order is not
  guessed at: the migration stops, naming the incidents and what is wrong, to be corrected first.

`resolution_requires_summary` is on for SEV-1 and SEV-2 of the default matrix.
"""

from datetime import timedelta

from django.db import migrations, models
from django.db.models import F, Q
from django.utils import timezone

# As they stood when this migration was written (not imported from code that may move on).
CLOCK_SKEW = timedelta(minutes=5)
MOST_LEAD = timedelta(days=30)
NEEDS_SUMMARY = ("SEV-1", "SEV-2")
IN_ORDER = (
    ("detected", "declared"),
    ("declared", "acknowledged"),
    ("declared", "mitigated"),
    ("declared", "resolved"),
    ("acknowledged", "resolved"),
    ("mitigated", "resolved"),
    ("resolved", "closed"),
)


def in_order(earlier: str, later: str) -> Q:
    first, then = f"{earlier}_at", f"{later}_at"
    return Q(**{f"{first}__isnull": True}) | Q(**{f"{then}__isnull": True}) | Q(**{f"{first}__lte": F(then)})


def _stamp(moment) -> str:
    return moment.isoformat(timespec="minutes") if moment else "—"


def repair_detection_times(apps, schema_editor):
    Incident = apps.get_model("incidents", "Incident")
    TimelineEvent = apps.get_model("incidents", "TimelineEvent")
    now = timezone.now()
    suspect = Incident.objects.filter(detected_at__isnull=False).filter(
        Q(detected_at__gt=F("declared_at")) | Q(detected_at__lt=F("declared_at") - MOST_LEAD)
    )
    for incident in suspect.only("pk", "number", "detected_at", "declared_at").order_by("number"):
        old, declared = incident.detected_at, incident.declared_at
        new = declared if declared < old <= declared + CLOCK_SKEW else None
        Incident.objects.filter(pk=incident.pk).update(detected_at=new)
        why = "after its declaration" if old > declared else f"{(declared - old).days} days before its declaration"
        message = (
            f"Detection time {_stamp(old)} was {why}; "
            + (f"set to the declaration time {_stamp(new)}" if new else "cleared (durations count from the declaration)")
            + " by an upgrade of Vigil"
        )
        TimelineEvent.objects.create(
            incident_id=incident.pk, kind="details_changed", occurred_at=now, source="system", message=message,
            data={"changes": {"detected_at": [_stamp(old), _stamp(new)]}}, dispatched_at=now,
        )
        print(f"\n  INC-{incident.number}: {message}.", end="")


def refuse_out_of_order(apps, schema_editor):
    Incident = apps.get_model("incidents", "Incident")
    problems = []
    for earlier, later in IN_ORDER:
        numbers = Incident.objects.exclude(in_order(earlier, later)).order_by("number").values_list("number", flat=True)
        problems += [f"INC-{number} ({earlier} after {later})" for number in numbers[:50]]
    if problems:
        raise RuntimeError(
            "These incidents have lifecycle times out of order, so the order constraints cannot be added: "
            + ", ".join(problems)
            + ". Correct their times (they must run detected ≤ declared ≤ acknowledged ≤ resolved ≤ closed, "
            "with mitigated between declared and resolved), then run the migration again."
        )


def require_summaries(apps, schema_editor):
    SeverityLevel = apps.get_model("incidents", "SeverityLevel")
    SeverityLevel.objects.filter(name__in=NEEDS_SUMMARY).update(resolution_requires_summary=True)


def constraint(earlier: str, later: str) -> migrations.AddConstraint:
    return migrations.AddConstraint(
        model_name="incident",
        constraint=models.CheckConstraint(condition=in_order(earlier, later), name=f"incident_{earlier}_not_after_{later}"),
    )


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0003_postmortem_due_policy"),
    ]

    operations = [
        migrations.AddField(
            model_name="severitylevel",
            name="resolution_requires_summary",
            field=models.BooleanField(
                default=False,
                help_text="Resolving an incident of this severity is refused until it has a resolution summary: what "
                "was wrong, what fixed it, and what customers saw.",
                verbose_name="resolving needs a summary",
            ),
        ),
        migrations.RunPython(require_summaries, migrations.RunPython.noop),
        migrations.RunPython(repair_detection_times, migrations.RunPython.noop),
        migrations.RunPython(refuse_out_of_order, migrations.RunPython.noop),
        *(constraint(earlier, later) for earlier, later in IN_ORDER),
    ]
