"""Demo stories still open: one for every working state, from a SEV-4 nobody hurries over to a
SEV-1 nobody has acknowledged yet."""

from datetime import timedelta

from incidents.demo.steps import Story, after, ago, ago_wall_clock, days_ago, earlier, until
from incidents.demo.stories.cast import Role, S, alice, bob, carol, dave, erin, monitoring
from incidents.models import EvidenceLink, Incident

# A SEV-4 open for two days: nobody is in a hurry, and the update reminders say so.
investigating_admin_export = Story(
    start=days_ago(2, 9, 5),
    steps=(
        after(0, bob.declares(
            title="Refund CSV export times out for ranges over 31 days",
            severity="SEV-4", kind="performance", services=["internal-admin-tools"],
            summary="Finance cannot export last quarter's refunds; the page spins and ends in a 504 after 60 s.",
        )),
        after(timedelta(hours=3, minutes=20),
            erin.acknowledges(),
            erin.assigns(erin, Role.COMMANDER),
        ),
        after(5, erin.notes("Workaround for finance: export month by month. Sent them the steps.")),
        after(2, erin.updates(
            "Exports up to 31 days work; longer ones time out. Finance is exporting month by month "
            "meanwhile. Looking at the query next."
        )),
        # Hours ago, after a night in between: the daily SEV-4 update is not due yet.
        until(timedelta(hours=5, minutes=10),
            erin.ticks_off("Confirm latency"),
            erin.notes(
                "The export runs one query per refund to fetch the order (N+1): 41k queries for a "
                "quarter. Fix is a select_related; needs a review from Platform."
            ),
        ),
        after(3, erin.assigns(dave, Role.SUBJECT_MATTER_EXPERT)),
        after(1, erin.updates("Found an N+1 query in the export; fix in review. Month-by-month export still works.")),
    ),
)


# Five hours ago: a SEV-3 now monitoring after a workaround.
monitoring_stale_search = Story(
    start=ago(hours=5, minutes=3),
    steps=(
        after(0, erin.declares(
            title="Search results stale: indexer lagging about 25 minutes",
            severity="SEV-3", kind="data", services=["search"],
            summary="New and repriced products take 25+ minutes to show in search; prices in results "
            "can be out of date.",
            origin=Incident.Origin.MONITORING, commander=erin, detected_at=earlier(minutes=9),
        )),
        after(4, erin.acknowledges()),
        after(6,
            erin.links("https://grafana.example.com/d/search-indexer/search-indexer-lag", "Search / Indexer lag"),
            erin.notes(
                "The weekly full reindex started four hours late (its cron moved with the DST change) "
                "and is competing with the live indexer for the same write queue."
            ),
        ),
        after(3, erin.updates(
            "Search is showing data up to 25 minutes old. Pausing the full reindex to let live "
            "updates through."
        )),
        after(2,
            erin.ticks_off("Stop the writes"),
            erin.edits(
                mitigation=Incident.Mitigation.WORKAROUND,
                mitigation_notes="Paused reindex-full (`searchctl jobs pause reindex-full`); will rerun tonight.",
                regions=["eu-west-1"],
            ),
        ),
        after(18, erin.moves_to(S.MONITORING, "Lag down to 40 s and falling.")),
        after(1,
            erin.assigns(alice, Role.COMMUNICATIONS_LEAD),
            erin.updates("Search results are up to date again. Watching until tonight's reindex has run."),
        ),
        after(timedelta(hours=2, minutes=30), erin.updates(
            "Lag steady under 5 s. Reindex rescheduled for 02:00 UTC; will resolve tomorrow morning."
        )),
    ),
)


# Restricted: only Carol, Alice and whoever the engine pages take part; everyone else does not see it.
identified_security_sign_ins = Story(
    start=ago(hours=4, minutes=12),
    steps=(
        after(0, carol.declares(
            title="Suspicious back-office sign-ins from an unfamiliar network",
            severity="SEV-2", kind="security", services=["auth-service", "internal-admin-tools"],
            summary="Three successful sign-ins to Internal Admin Tools from a hosting provider we do not "
            "use, on a contractor account, outside its usual hours.",
            origin=Incident.Origin.INTERNAL, commander=alice, detected_at=earlier(minutes=20),
        )),
        after(2,
            carol.acknowledges(),
            carol.ticks_off("Keep the incident restricted"),
        ),
        after(4,
            alice.links(
                "https://logs.example.com/app/discover#/view/admin-sign-ins?time=now-24h", "Admin tools sign-ins, 24 h",
                kind=EvidenceLink.Kind.LOGS,
            ),
            alice.ticks_off("Preserve evidence"),
        ),
        after(3,
            alice.notes(
                "Disabled the contractor account and revoked its sessions and API tokens. Sign-ins "
                "stopped; no new ones from that network since."
            ),
            alice.ticks_off("Contain"),
        ),
        after(6, alice.notes(
            "The attacker viewed 6 customer profiles (names, emails, order history). No exports, "
            "no refunds issued, no changes made."
        )),
        after(2, alice.moves_to(
            S.IDENTIFIED, "Contractor's password reused from a third-party breach; the account had no MFA."
        )),
        after(1, carol.edits(
            users_affected_confirmed=6,
            compliance_impact=Incident.ImpactLevel.MEDIUM, reputation_impact=Incident.ImpactLevel.LOW,
            impact_description="Personal data of 6 customers viewed by an unauthorised party.",
        )),
        after(5,
            carol.ticks_off("Engage the security lead"),
            carol.updates(
                "Contained. 6 customers' data viewed, nothing exported. Legal engaged for the 72-hour "
                "notification assessment; MFA enforcement for contractors ships today."
            ),
        ),
        # The update cadence nags; Alice answers the first reminder, then the wait for legal is long.
        after(32, alice.updates(
            "Checked the other 212 contractor accounts: no sign-ins from that network or any other "
            "unknown one. Password resets forced for every contractor."
        )),
        until(timedelta(minutes=14), carol.updates(
            "Legal: notifying the 6 customers by email; regulator notification not required. "
            "MFA now enforced for every back-office account."
        )),
    ),
)


# Fifty minutes ago: escalated to SEV-2, cause identified, fix under way.
identified_checkout_latency = Story(
    start=ago(minutes=52),
    steps=(
        after(0, erin.declares(
            title="Checkout API: slow order submission and 504s",
            severity="SEV-3", kind="performance", services=["checkout-api"],
            summary="p99 of POST /orders at 8 s (SLO 1.5 s); some submissions end in a 504.",
            origin=Incident.Origin.MONITORING, detected_at=earlier(minutes=3),
        )),
        after(1, erin.acknowledges()),
        after(2,
            erin.links(
                "https://grafana.example.com/d/checkout/checkout-api?var-route=POST%20%2Forders",
                "Checkout API / POST /orders",
            ),
            erin.ticks_off("Confirm latency"),
        ),
        after(3, erin.notes("504 rate 6 % and rising with traffic. These are customers failing to buy.")),
        after(1,
            alice.changes_severity("SEV-2", "Order submissions failing for a growing share of customers."),
            alice.assigns(alice, Role.COMMANDER),
        ),
        after(1,
            alice.assigns(bob, Role.TECHNICAL_LEAD),
            alice.assigns(carol, Role.COMMUNICATIONS_LEAD),
        ),
        after(2,
            carol.updates_customers("Some customers see slow or failed order submission. We are investigating."),
            carol.ticks_off("Post the first status update"),
        ),
        after(4,
            bob.links(
                "https://tempo.example.com/trace/4bf92f3577b34da6a3ce929d0e0e4736", "Slow POST /orders trace (7.9 s)",
                kind=EvidenceLink.Kind.TRACE,
            ),
            bob.ticks_off("Find the slowest component"),
            bob.notes(
                "7.6 s of the trace is one query: `SELECT … FROM orders WHERE customer_id = $1 AND status = "
                "'open'` doing a sequential scan on 48M rows."
            ),
        ),
        after(3,
            alice.moves_to(S.IDENTIFIED, "Last night's migration 0142 dropped the orders (customer_id, status) index."),
            alice.edits(
                services=["checkout-api", "primary-postgresql"],
                users_affected_estimated=1800, regions=["eu-west-1"],
                revenue_impact=Incident.ImpactLevel.MEDIUM,
                impact_description="About 6 % of order submissions fail at peak; the rest are slow.",
            ),
        ),
        after(2, alice.updates(
            "Cause found: a missing database index after last night's release. Recreating it "
            "concurrently, about 20 minutes on 48M rows. Next update in 30 minutes at the latest."
        )),
        after(1, carol.updates_customers(
            "We have identified the cause of slow order submission and are applying a fix."
        )),
        after(15, bob.notes("CREATE INDEX CONCURRENTLY at 61 % (pg_stat_progress_create_index).")),
        after(6, alice.updates("Index build at about 80 %. 504 rate down to 3 % as traffic eases.")),
    ),
)


# Four minutes ago, from monitoring: nobody has acknowledged yet, so the five-minute
# acknowledge SLA shows as due soon, and as breached a minute later, when the engine pages
# again live. Counted from the real clock, not the whole minute the other stories use, so
# that breach is still a minute ahead when seeding ends.
triggered_frontend_502s = Story(
    start=ago_wall_clock(minutes=4),
    steps=(
        after(0, monitoring.declares(
            title="Web Frontend: 502s from the CDN origin in eu-west-1",
            severity="SEV-1", kind="availability", services=["web-frontend"],
            summary="Alertmanager: OriginErrorRateCritical firing for web-frontend, 502 ratio 0.41 over 2 min.",
            origin=Incident.Origin.MONITORING, detected_at=earlier(minutes=1),
        )),
        after(1, monitoring.links(
            "https://grafana.example.com/d/edge-origin/edge-origin?var-region=eu-west-1", "Edge / Origin (from the alert)"
        )),
    ),
)
