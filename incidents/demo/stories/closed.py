"""Demo stories long closed: a data repair nine days ago and a failover game day six days ago."""

from datetime import timedelta

from incidents.demo.steps import Story, after, days_ago, earlier
from incidents.demo.stories.cast import Role, S, alice, bob, dave, erin
from incidents.models import Incident

# A SEV-3 data incident nine days ago, closed after its two-hour observation.
closed_refund_duplicates = Story(
    start=days_ago(9, 13, 52),
    steps=(
        after(0, erin.declares(
            title="Duplicate refund rows after payments-gateway retry",
            severity="SEV-3", kind="data", services=["payments-gateway", "internal-admin-tools"],
            summary="Support found 14 refunds that show twice in the back office; finance asked whether "
            "customers were refunded twice.",
            origin=Incident.Origin.INTERNAL, commander=alice, detected_at=earlier(minutes=25),
        )),
        after(3, erin.acknowledges()),
        after(4, erin.notes(
            "The processor shows one refund per order for all 14; the duplicates are ours only. "
            "Both rows carry the same PSP reference, written 2 s apart."
        )),
        after(2,
            erin.ticks_off("Stop the writes"),
            erin.notes("Paused the refund-retry job (`payctl jobs pause refund-retry`)."),
        ),
        after(6, alice.moves_to(
            S.IDENTIFIED,
            "The retry job re-inserts a refund when the first insert times out but commits anyway; "
            "there is no unique constraint on the PSP reference.",
        )),
        after(5,
            bob.ticks_off("Take a snapshot"),
            alice.assigns(bob, Role.SUBJECT_MATTER_EXPERT),
        ),
        after(12,
            erin.ticks_off("Establish the scope"),
            alice.edits(
                users_affected_confirmed=14, revenue_impact=Incident.ImpactLevel.NONE,
                impact_description="14 refunds recorded twice in our database only; no customer was refunded twice.",
            ),
        ),
        after(3, alice.updates(
            "Finance: no customer was refunded twice. 14 duplicate rows in the back office; the repair "
            "script is in review and the retry job stays paused until the fix ships."
        )),
        after(40,
            bob.ticks_off("Have the repair plan reviewed"),
            erin.notes("Repair script reviewed by Bob; deleted the 14 duplicates in one transaction."),
        ),
        after(8,
            erin.ticks_off("Verify the data"),
            alice.edits(
                mitigation=Incident.Mitigation.FIX_FORWARD,
                mitigation_notes="Deleted duplicates; unique constraint on (order, psp_reference) shipped in "
                "payments-gateway 4.16.1; retry job resumed.",
            ),
        ),
        after(2, alice.moves_to(S.MONITORING, "Retry job resumed with the constraint in place.")),
        after(30, alice.resolves(
            "No new duplicates after 30 minutes of retries; the constraint now rejects them.",
            mitigation=Incident.Mitigation.FIX_FORWARD,
        )),
        after(timedelta(hours=3, minutes=1), alice.closes()),
    ),
)


# A game day six days ago: a drill (it pages only its participants), closed the next morning.
closed_failover_drill = Story(
    start=days_ago(6, 10, 0),
    steps=(
        after(0,
            alice.declares(
                title="Drill: Primary PostgreSQL failover game day",
                severity="SEV-2", kind="availability", services=["primary-postgresql", "checkout-api"],
                summary="Planned exercise: fail pg-1 over to pg-2 under production traffic and time the "
                "write outage. Announced in #eng on Monday.",
                commander=alice, is_drill=True,
            ),
            # The game-day crew joins up front: a drill pages only its participants.
            alice.assigns(bob, Role.TECHNICAL_LEAD),
            alice.assigns(dave, Role.SCRIBE),
            alice.assigns(erin, Role.RESPONDER),
        ),
        after(1, bob.acknowledges()),
        after(2, bob.links("https://grafana.example.com/d/pg-overview/postgres-overview?from=now-1h", "Postgres / Overview")),
        after(2, dave.notes("Started `patronictl failover vigil-pg --candidate pg-2`.")),
        after(1, bob.notes(
            "pg-2 promoted. Checkout API write errors for 38 s, then recovered on its own; "
            "no manual step was needed."
        )),
        after(1, alice.updates(
            "Drill: failover done, 38 s of write errors on Checkout API (target 60 s). Replicas "
            "re-attaching to pg-2; checking the clients next."
        )),
        after(1, erin.notes(
            "Finding: notification-worker kept its old connections for 4 minutes (no health check "
            "on its pool). Action item for Platform."
        )),
        after(5, alice.moves_to(S.MONITORING, "Writes healthy on pg-2, replicas re-attached.")),
        after(20, alice.resolves(
            "Failover took 38 s of write unavailability (target 60 s). One finding: "
            "notification-worker pool health checks.",
            mitigation=Incident.Mitigation.FAILOVER,
        )),
        after(timedelta(hours=23, minutes=1), alice.closes()),
    ),
)
