"""Demo data for a fresh Vigil: an admin login, demo users, teams, a service catalog, on-call
schedules and escalation policies, and incidents in every state, their histories replayed
through `incidents.actions` with the deadline engine ticking along at each past instant, so
escalations, re-pages and overdue-update reminders sit in the timelines where they happened.

`make run` calls this after every migrate, so a second run creates nothing and only prints
the logins. The generated password lives in `var/demo-login.txt` (git-ignored); delete the
file and run the command again to get a new one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from incidents import actions, clock, engine
from incidents.demo.catalogue import DEMO_USERS, ensure_catalog
from incidents.models import (
    Deadline,
    EvidenceLink,
    Incident,
    Participant,
    Source,
    TimelineEvent,
)
from oncall.models import User
from oncall.schedules import on_call_at

ADMIN = "admin"
LOGIN_FILE = "demo-login.txt"


def run_engine_until(moment: datetime, *, not_before: datetime | None = None) -> int:
    """Let the deadline engine catch up to `moment`: one tick at each pending deadline's due time
    (but not before `not_before`), in order, so every escalation, re-page and reminder is stamped
    when it would really have fired, and what a firing plans next fires in turn. Returns how
    many deadlines fired."""
    fired = 0
    while True:
        due = (
            Deadline.objects.filter(fired_at=None, cancelled_at=None, due_at__lte=moment)
            .order_by("due_at")
            .values_list("due_at", flat=True)
            .first()
        )
        if due is None:
            return fired
        with clock.at(max(due, not_before) if not_before else due):
            result = engine.tick()
        if result.failed or not result.fired:
            raise CommandError(
                f"The deadline engine could not fire what was due at {due:%Y-%m-%d %H:%M:%S} UTC (see the log)."
            )
        fired += result.fired


class Replay:
    """Plays one incident's history forward from `start`: each step moves the clock on
    (a minute unless told otherwise) and runs its actions at that past instant.

    The engine ticks along: before a step, every deadline that fell due since the last one
    fires at its due time; after it, whatever the step made due at once (a severity change
    whose new levels are already late) fires at the step's instant, as the next tick would."""

    def __init__(self, start: datetime, *, present: datetime):
        self.now = start
        self.present = present

    def after(self, minutes: int = 1, *, hours: int = 0, days: int = 0) -> contextlib.AbstractContextManager:
        return self.until(self.now + timedelta(days=days, hours=hours, minutes=minutes))

    @contextlib.contextmanager
    def until(self, moment: datetime) -> Iterator[None]:
        """Jump to `moment` (for steps placed relative to the present, e.g. the latest update)."""
        if moment < self.now:
            raise CommandError(f"The demo story went back in time ({moment:%Y-%m-%d %H:%M} UTC).")
        if moment > self.present:
            raise CommandError(f"The demo story ran into the future ({moment:%Y-%m-%d %H:%M} UTC).")
        run_engine_until(moment)
        self.now = moment
        with clock.at(moment):
            yield
        run_engine_until(moment, not_before=moment)


class Command(BaseCommand):
    help = "Create the demo login, users, teams, services and incidents (once); print the logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force-incidents",
            action="store_true",
            help="Add another set of demo incidents even though incidents already exist.",
        )
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="Where the server answers (for the printed link)."
        )

    def handle(self, *args, force_incidents: bool = False, base_url: str = "http://127.0.0.1:8000", **options):
        login_file = Path(settings.VAR_DIR) / LOGIN_FILE
        saved = _read_password(login_file)
        with transaction.atomic():
            password = self.ensure_logins(saved, login_file)
            if Incident.objects.exists() and not force_incidents:
                created = []
            else:
                present = timezone.now().replace(second=0, microsecond=0)
                catalog = ensure_catalog(present)
                with _quiet(engine.logger):
                    created = DemoIncidents(catalog, present=present).create()
                    # Whatever fell due between the stories' last steps and now fires at its due
                    # time, so the first real tick has nothing old to fire; the future stays pending.
                    run_engine_until(timezone.now())
                    engine.tick()
                # The replayed stories are history: nobody is paged or mailed for them. What the
                # engine fires from now on (the open SEV-1's next levels) is notified for real.
                TimelineEvent.objects.filter(dispatched_at__isnull=True).update(dispatched_at=F("occurred_at"))
        # Saved once the logins are committed: a run that fails half-way leaves the old file,
        # and a file that could not be written is simply regenerated by the next run.
        if password and password != saved:
            _write_password(login_file, password)

        url = base_url.rstrip("/") + "/admin/"
        others = ", ".join(f"{username} ({group})" for username, _, _, _, group in DEMO_USERS)
        if password:
            self.stdout.write(self.style.SUCCESS(f"Vigil admin: {url}  user: {ADMIN}  password: {password}"))
            self.stdout.write(f"Demo users, same password: {others}")
            self.stdout.write(f"Login saved in {login_file}")
        else:
            self.stdout.write(f"Vigil admin: {url}  user: {ADMIN}")
            self.stdout.write(f"Demo users: {others}")
        if created:
            refs = ", ".join(i.reference for i in created)
            self.stdout.write(f"Created {len(created)} demo incidents: {refs}")
        else:
            self.stdout.write(f"Demo data already present ({Incident.objects.count()} incidents); nothing created.")

    # --- Logins ---------------------------------------------------------------------------

    def ensure_logins(self, saved: str | None, login_file: Path) -> str | None:
        """Create the admin and demo users if missing; return the password that logs them in.

        The saved password is reused while it still opens the admin account; a missing file
        means a new password for every demo login. A password changed by hand is left alone.
        """
        admin = User.objects.filter(username=ADMIN).first()
        users = {u.username: u for u in User.objects.filter(username__in=[row[0] for row in DEMO_USERS])}

        if saved and admin is not None:
            if not admin.check_password(saved):
                self.stderr.write(
                    self.style.WARNING(
                        f"The {ADMIN} password no longer matches {login_file}; it was changed by hand. "
                        f"Delete that file and run seed_demo again for a new demo password."
                    )
                )
                password, hashed = None, None
            else:
                password, hashed = saved, admin.password
        else:
            password = saved or secrets.token_urlsafe(16)
            # One hash shared by every demo login: hashing is deliberately slow.
            hashed = make_password(password)

        if admin is None:
            admin = User(
                username=ADMIN, first_name="Vigil", last_name="Admin", email="admin@example.com",
                is_staff=True, is_superuser=True, time_zone="UTC",
            )
        if password and (admin.pk is None or password != saved):
            admin.password = hashed
            admin.save()

        groups = {g.name: g for g in Group.objects.filter(name__in={row[4] for row in DEMO_USERS})}
        for username, first, last, tz, group in DEMO_USERS:
            user = users.get(username)
            if user is None:
                user = User(
                    username=username, first_name=first, last_name=last, time_zone=tz,
                    email=f"{first}.{last}@example.com".lower(), is_staff=True,
                )
                user.password = hashed or make_password(None)
                user.save()
                if group in groups:
                    user.groups.add(groups[group])
            elif password and password != saved:
                user.password = hashed
                user.save(update_fields=["password"])
        return password


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    """Hide the engine's per-tick info lines while history replays (warnings still show)."""
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def _write_password(path: Path, password: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Readable by its owner only, from the moment it exists.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(
            "# Vigil demo login, written by `manage.py seed_demo`. Delete this file and run it again\n"
            f"# for a new password. The demo users ({', '.join(row[0] for row in DEMO_USERS)}) share it.\n"
            f"user: {ADMIN}\npassword: {password}\n"
        )


def _read_password(path: Path) -> str | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    for line in text.splitlines():
        if line.startswith("password:"):
            return line.partition(":")[2].strip() or None
    return None


# --- The incidents --------------------------------------------------------------------------

ADMIN_SRC = Source.ADMIN
SYSTEM_SRC = Source.SYSTEM
Role = Participant.Role
S = Incident.Status


class DemoIncidents:
    """The demo incidents, one method each, oldest first. Every change goes through an action."""

    def __init__(self, catalog: dict, *, present: datetime):
        self.u = catalog["users"]
        self.svc = catalog["services"]
        self.sev = catalog["severities"]
        self.type = catalog["types"]
        self.schedules = catalog["schedules"]
        self.present = present
        missing = {"alice", "bob", "carol", "dave", "erin"} - set(self.u)
        if missing:
            raise CommandError(f"Demo users missing: {', '.join(sorted(missing))}.")

    def create(self) -> list[Incident]:
        stories = [
            self.closed_refund_duplicates,
            self.closed_failover_drill,
            self.resolved_card_payments,
            self.investigating_admin_export,
            self.reopened_notification_delays,
            self.resolved_sign_in_outage,
            self.monitoring_stale_search,
            self.identified_security_sign_ins,
            self.identified_checkout_latency,
            self.triggered_frontend_502s,
        ]
        return [story() for story in stories]

    def replay(self, start: datetime) -> Replay:
        return Replay(start, present=self.present)

    def on_call(self, schedule: str, at: datetime) -> User | None:
        """Who the schedule had on call at `at` (the person its page went to)."""
        people = on_call_at(self.schedules[schedule], at)
        return people[0] if people else None

    def days_ago(self, days: int, hour: int, minute: int) -> datetime:
        return (self.present - timedelta(days=days)).replace(hour=hour, minute=minute)

    @staticmethod
    def done(incident: Incident, task_start: str, *, actor) -> None:
        task = incident.tasks.get(title__startswith=task_start)
        actions.set_task_done(task, True, actor=actor, source=ADMIN_SRC)

    # A SEV-3 data incident nine days ago, closed after its two-hour observation.
    def closed_refund_duplicates(self) -> Incident:
        alice, bob, erin = self.u["alice"], self.u["bob"], self.u["erin"]
        r = self.replay(self.days_ago(9, 13, 52))
        with r.after(0):
            inc = actions.declare(
                title="Duplicate refund rows after payments-gateway retry",
                severity=self.sev["SEV-3"], incident_type=self.type["data"],
                services=[self.svc["payments-gateway"], self.svc["internal-admin-tools"]],
                summary="Support found 14 refunds that show twice in the back office; finance asked whether "
                "customers were refunded twice.",
                origin=Incident.Origin.INTERNAL, actor=erin, source=ADMIN_SRC, commander=alice,
                detected_at=r.now - timedelta(minutes=25),
            )
        with r.after(3):
            actions.acknowledge(inc, actor=erin, source=ADMIN_SRC)
        with r.after(4):
            actions.add_note(
                inc,
                "The processor shows one refund per order for all 14; the duplicates are ours only. "
                "Both rows carry the same PSP reference, written 2 s apart.",
                actor=erin, source=ADMIN_SRC,
            )
        with r.after(2):
            self.done(inc, "Stop the writes", actor=erin)
            actions.add_note(
                inc, "Paused the refund-retry job (`payctl jobs pause refund-retry`).", actor=erin, source=ADMIN_SRC
            )
        with r.after(6):
            actions.change_status(
                inc, S.IDENTIFIED, actor=alice, source=ADMIN_SRC,
                message="The retry job re-inserts a refund when the first insert times out but commits anyway; "
                "there is no unique constraint on the PSP reference.",
            )
        with r.after(5):
            self.done(inc, "Take a snapshot", actor=bob)
            actions.assign_role(inc, bob, Role.SUBJECT_MATTER_EXPERT, actor=alice, source=ADMIN_SRC)
        with r.after(12):
            self.done(inc, "Establish the scope", actor=erin)
            actions.update_details(
                inc, actor=alice, source=ADMIN_SRC,
                users_affected_confirmed=14, revenue_impact=Incident.ImpactLevel.NONE,
                impact_description="14 refunds recorded twice in our database only; no customer was refunded twice.",
            )
        with r.after(3):
            actions.post_update(
                inc,
                "Finance: no customer was refunded twice. 14 duplicate rows in the back office; the repair "
                "script is in review and the retry job stays paused until the fix ships.",
                actor=alice, source=ADMIN_SRC,
            )
        with r.after(40):
            self.done(inc, "Have the repair plan reviewed", actor=bob)
            actions.add_note(inc, "Repair script reviewed by Bob; deleted the 14 duplicates in one transaction.",
                             actor=erin, source=ADMIN_SRC)
        with r.after(8):
            self.done(inc, "Verify the data", actor=erin)
            actions.update_details(
                inc, actor=alice, source=ADMIN_SRC, mitigation=Incident.Mitigation.FIX_FORWARD,
                mitigation_notes="Deleted duplicates; unique constraint on (order, psp_reference) shipped in "
                "payments-gateway 4.16.1; retry job resumed.",
            )
        with r.after(2):
            actions.change_status(inc, S.MONITORING, actor=alice, source=ADMIN_SRC,
                                  message="Retry job resumed with the constraint in place.")
        with r.after(30):
            actions.resolve(
                inc, actor=alice, source=ADMIN_SRC, mitigation=Incident.Mitigation.FIX_FORWARD,
                summary="No new duplicates after 30 minutes of retries; the constraint now rejects them.",
            )
        with r.after(hours=3):
            actions.close(inc, actor=alice, source=ADMIN_SRC)
        return inc

    # A game day six days ago: a drill (it pages only its participants), closed the next morning.
    def closed_failover_drill(self) -> Incident:
        alice, bob, dave, erin = self.u["alice"], self.u["bob"], self.u["dave"], self.u["erin"]
        r = self.replay(self.days_ago(6, 10, 0))
        with r.after(0):
            inc = actions.declare(
                title="Drill: Primary PostgreSQL failover game day",
                severity=self.sev["SEV-2"], incident_type=self.type["availability"],
                services=[self.svc["primary-postgresql"], self.svc["checkout-api"]],
                summary="Planned exercise: fail pg-1 over to pg-2 under production traffic and time the "
                "write outage. Announced in #eng on Monday.",
                actor=alice, source=ADMIN_SRC, commander=alice, is_drill=True,
            )
            # The game-day crew joins up front: a drill pages only its participants.
            actions.assign_role(inc, bob, Role.TECHNICAL_LEAD, actor=alice, source=ADMIN_SRC)
            actions.assign_role(inc, dave, Role.SCRIBE, actor=alice, source=ADMIN_SRC)
            actions.assign_role(inc, erin, Role.RESPONDER, actor=alice, source=ADMIN_SRC)
        with r.after(1):
            actions.acknowledge(inc, actor=bob, source=ADMIN_SRC)
        with r.after(2):
            actions.add_evidence(
                inc, "https://grafana.example.com/d/pg-overview/postgres-overview?from=now-1h",
                kind=EvidenceLink.Kind.DASHBOARD, title="Postgres / Overview", actor=bob, source=ADMIN_SRC,
            )
        with r.after(2):
            actions.add_note(inc, "Started `patronictl failover vigil-pg --candidate pg-2`.",
                             actor=dave, source=ADMIN_SRC)
        with r.after(1):
            actions.add_note(
                inc, "pg-2 promoted. Checkout API write errors for 38 s, then recovered on its own; "
                "no manual step was needed.", actor=bob, source=ADMIN_SRC,
            )
        with r.after(1):
            actions.post_update(
                inc, "Drill: failover done, 38 s of write errors on Checkout API (target 60 s). Replicas "
                "re-attaching to pg-2; checking the clients next.", actor=alice, source=ADMIN_SRC,
            )
        with r.after(1):
            actions.add_note(
                inc, "Finding: notification-worker kept its old connections for 4 minutes (no health check "
                "on its pool). Action item for Platform.", actor=erin, source=ADMIN_SRC,
            )
        with r.after(5):
            actions.change_status(inc, S.MONITORING, actor=alice, source=ADMIN_SRC,
                                  message="Writes healthy on pg-2, replicas re-attached.")
        with r.after(20):
            actions.resolve(
                inc, actor=alice, source=ADMIN_SRC, mitigation=Incident.Mitigation.FAILOVER,
                summary="Failover took 38 s of write unavailability (target 60 s). One finding: "
                "notification-worker pool health checks.",
            )
        with r.after(hours=23):
            actions.close(inc, actor=alice, source=ADMIN_SRC)
        return inc

    # Three days ago: SEV-1 card failures, downgraded once mitigated, resolved. It stays resolved:
    # SEV-1/SEV-2 incidents close only once their post-mortem (opened on resolution, in draft
    # here) is published.
    def resolved_card_payments(self) -> Incident:
        alice, bob, carol, erin = self.u["alice"], self.u["bob"], self.u["carol"], self.u["erin"]
        r = self.replay(self.days_ago(3, 9, 41))
        with r.after(0):
            inc = actions.declare(
                title="Card payments failing: Payments Gateway timing out to the card processor",
                severity=self.sev["SEV-1"], incident_type=self.type["availability"],
                services=[self.svc["payments-gateway"], self.svc["checkout-api"]],
                summary="Authorisation success rate fell from 99 % to 68 % four minutes ago; customers see "
                "'Payment could not be completed'.",
                origin=Incident.Origin.MONITORING, actor=alice, source=ADMIN_SRC, commander=alice,
                detected_at=r.now - timedelta(minutes=4),
            )
        with r.after(1):
            actions.acknowledge(inc, actor=erin, source=ADMIN_SRC)
        with r.after(1):
            actions.assign_role(inc, bob, Role.TECHNICAL_LEAD, actor=alice, source=ADMIN_SRC)
            actions.assign_role(inc, carol, Role.COMMUNICATIONS_LEAD, actor=alice, source=ADMIN_SRC)
        with r.after(1):
            actions.add_evidence(
                inc, "https://grafana.example.com/d/psp-health/payments-psp-health?from=now-3h",
                title="Payments / PSP health", actor=erin, source=ADMIN_SRC,
            )
        with r.after(1):
            actions.post_update(
                inc,
                "Card payments failing for roughly 30 % of attempts since 09:37 UTC. Requests to the card "
                "processor time out after 10 s. Investigating whether the cause is on our side.",
                actor=alice, source=ADMIN_SRC,
            )
        with r.after(1):
            actions.post_update(
                inc,
                "We are investigating failures when paying by card. Some payments may not go through; "
                "no money is taken for a failed payment.",
                actor=carol, source=ADMIN_SRC, visibility="external",
            )
        with r.after(3):
            self.done(inc, "Confirm the outage", actor=erin)
            actions.add_note(
                inc,
                "Connection pool to the processor saturated: 200/200 in use, p99 connect 9.8 s. Started "
                "four minutes after the 09:33 deploy of payments-gateway 4.18.0.",
                actor=bob, source=ADMIN_SRC,
            )
        with r.after(1):
            self.done(inc, "Check recent deploys", actor=bob)
            actions.add_note(inc, "Processor status page is green; their other merchants are fine.",
                             actor=erin, source=ADMIN_SRC)
            self.done(inc, "Check upstream dependencies", actor=erin)
        with r.after(2):
            actions.change_status(
                inc, S.IDENTIFIED, actor=alice, source=ADMIN_SRC,
                message="4.18.0 lowered the processor keep-alive to 1 s; connections churn and the pool starves.",
            )
        with r.after(1):
            self.done(inc, "Identify the affected services", actor=alice)
            actions.update_details(
                inc, actor=alice, source=ADMIN_SRC,
                users_affected_estimated=4200, regions=["eu-west-1", "us-east-1"],
                revenue_impact=Incident.ImpactLevel.HIGH, reputation_impact=Incident.ImpactLevel.MEDIUM,
                impact_description="About a third of card payments failed for 25 minutes; checkout otherwise up.",
            )
        with r.after(1):
            self.done(inc, "Decide on a mitigation", actor=alice)
            actions.post_update(
                inc, "We have identified the cause and are rolling back a recent change to payment processing.",
                actor=carol, source=ADMIN_SRC, visibility="external",
            )
            self.done(inc, "Post the first status update", actor=carol)
        with r.after(6):
            actions.update_details(
                inc, actor=bob, source=ADMIN_SRC, mitigation=Incident.Mitigation.ROLLBACK,
                mitigation_notes="Rolled payments-gateway back to 4.17.2 (kubectl rollout undo).",
            )
        with r.after(2):
            actions.change_status(inc, S.MONITORING, actor=alice, source=ADMIN_SRC,
                                  message="Rollback complete; success rate back to 96 % and climbing.")
        with r.after(1):
            actions.change_severity(
                inc, self.sev["SEV-2"], actor=alice, source=ADMIN_SRC,
                reason="Customer impact over; residual failures are retries of earlier attempts.",
            )
        with r.after(10):
            actions.post_update(
                inc, "Success rate 99.4 %, at baseline. Watching for 30 minutes before resolving.",
                actor=alice, source=ADMIN_SRC,
            )
        with r.after(20):
            actions.post_update(
                inc, "A fix has been implemented and we are monitoring the results.",
                actor=carol, source=ADMIN_SRC, visibility="external",
            )
        with r.after(15):
            actions.update_details(inc, actor=alice, source=ADMIN_SRC, users_affected_confirmed=3870)
        with r.after(16):
            actions.resolve(
                inc, actor=alice, source=ADMIN_SRC, mitigation=Incident.Mitigation.ROLLBACK,
                summary="payments-gateway 4.18.0 set the processor keep-alive to 1 s and starved the "
                "connection pool. Rolled back to 4.17.2; card success rate at its 99.4 % baseline.",
            )
        with r.after(1):
            actions.post_update(
                inc, "This incident has been resolved. Card payments have been working normally for the past hour.",
                actor=carol, source=ADMIN_SRC, visibility="external",
            )
        return inc

    # Two days ago: resolved, back 40 minutes later, reopened and resolved again.
    def reopened_notification_delays(self) -> Incident:
        alice, bob, erin = self.u["alice"], self.u["bob"], self.u["erin"]
        r = self.replay(self.days_ago(2, 15, 20))
        with r.after(0):
            inc = actions.declare(
                title="Order confirmation emails delayed by up to 40 minutes",
                severity=self.sev["SEV-3"], incident_type=self.type["performance"],
                services=[self.svc["notification-worker"]],
                summary="Support reports customers asking where their order confirmation is.",
                origin=Incident.Origin.CUSTOMER_REPORT, actor=erin, source=ADMIN_SRC,
                detected_at=r.now - timedelta(minutes=12),
            )
        with r.after(2):
            actions.acknowledge(inc, actor=erin, source=ADMIN_SRC)
        with r.after(1):
            actions.assign_role(inc, alice, Role.COMMANDER, actor=erin, source=ADMIN_SRC)
        with r.after(3):
            actions.add_evidence(
                inc, "https://grafana.example.com/d/queues/queues?var-queue=notifications",
                title="Queues / notifications", actor=erin, source=ADMIN_SRC,
            )
            actions.add_note(inc, "Backlog 31k messages, oldest 38 min. Workers at 100 % CPU, all 4 busy.",
                             actor=erin, source=ADMIN_SRC)
        with r.after(2):
            actions.update_details(
                inc, actor=erin, source=ADMIN_SRC, mitigation=Incident.Mitigation.WORKAROUND,
                mitigation_notes="Scaled notification-worker from 4 to 12 replicas.",
            )
        with r.after(1):
            actions.post_update(
                inc, "Order emails are running up to 40 minutes late. Scaled the workers up; backlog draining.",
                actor=alice, source=ADMIN_SRC, status=S.MONITORING,
            )
        with r.after(25):
            actions.resolve(inc, actor=alice, source=ADMIN_SRC,
                            summary="Backlog drained after scaling to 12 workers.")
        with r.after(40):
            actions.reopen(
                inc, actor=erin, source=ADMIN_SRC,
                reason="Backlog growing again: 18k messages queued, oldest 22 min, with 12 workers.",
            )
        with r.after(4):
            actions.assign_role(inc, bob, Role.TECHNICAL_LEAD, actor=alice, source=ADMIN_SRC)
        with r.after(6):
            actions.add_note(
                inc,
                "Same message ids retried thousands of times: bounce webhooks for a dead mailbox domain are "
                "requeued forever, and scaling up only made the retry storm faster.",
                actor=bob, source=ADMIN_SRC,
            )
        with r.after(2):
            actions.change_status(inc, S.IDENTIFIED, actor=alice, source=ADMIN_SRC,
                                  message="Retry storm from bounce webhooks; no dead-letter limit.")
        with r.after(1):
            actions.post_update(
                inc, "Cause found: a retry loop on bounced emails. Bob is shipping a retry limit; "
                "emails are still 20 minutes late.", actor=alice, source=ADMIN_SRC,
            )
        with r.after(24):
            actions.update_details(
                inc, actor=bob, source=ADMIN_SRC, mitigation=Incident.Mitigation.FIX_FORWARD,
                mitigation_notes="notification-worker 2.9.3: at most 5 retries, then the dead-letter queue. "
                "Moved 9,412 looping messages there.",
            )
        with r.after(1):
            actions.change_status(inc, S.MONITORING, actor=alice, source=ADMIN_SRC,
                                  message="2.9.3 deployed; backlog falling fast.")
        with r.after(20):
            actions.resolve(
                inc, actor=alice, source=ADMIN_SRC, mitigation=Incident.Mitigation.FIX_FORWARD,
                summary="Bounce webhooks were retried forever. 2.9.3 caps retries at 5; backlog at zero, "
                "emails on time. Workers back to 4 replicas tomorrow.",
            )
        return inc

    # A SEV-4 open for two days: nobody is in a hurry, and the update reminders say so.
    def investigating_admin_export(self) -> Incident:
        bob, dave, erin = self.u["bob"], self.u["dave"], self.u["erin"]
        r = self.replay(self.days_ago(2, 9, 5))
        with r.after(0):
            inc = actions.declare(
                title="Refund CSV export times out for ranges over 31 days",
                severity=self.sev["SEV-4"], incident_type=self.type["performance"],
                services=[self.svc["internal-admin-tools"]],
                summary="Finance cannot export last quarter's refunds; the page spins and ends in a 504 after 60 s.",
                actor=bob, source=ADMIN_SRC,
            )
        with r.after(hours=3, minutes=20):
            actions.acknowledge(inc, actor=erin, source=ADMIN_SRC)
            actions.assign_role(inc, erin, Role.COMMANDER, actor=erin, source=ADMIN_SRC)
        with r.after(5):
            actions.add_note(
                inc, "Workaround for finance: export month by month. Sent them the steps.", actor=erin, source=ADMIN_SRC
            )
        with r.after(2):
            actions.post_update(
                inc, "Exports up to 31 days work; longer ones time out. Finance is exporting month by month "
                "meanwhile. Looking at the query next.", actor=erin, source=ADMIN_SRC,
            )
        # Hours ago, after a night in between: the daily SEV-4 update is not due yet.
        with r.until(self.present - timedelta(hours=5, minutes=10)):
            self.done(inc, "Confirm latency", actor=erin)
            actions.add_note(
                inc, "The export runs one query per refund to fetch the order (N+1): 41k queries for a "
                "quarter. Fix is a select_related; needs a review from Platform.", actor=erin, source=ADMIN_SRC,
            )
        with r.after(3):
            actions.assign_role(inc, dave, Role.SUBJECT_MATTER_EXPERT, actor=erin, source=ADMIN_SRC)
        with r.after(1):
            actions.post_update(
                inc, "Found an N+1 query in the export; fix in review. Month-by-month export still works.",
                actor=erin, source=ADMIN_SRC,
            )
        return inc

    # Yesterday: SEV-1 sign-in outage, its first page unanswered; resolved and still inside its
    # 24-hour observation.
    def resolved_sign_in_outage(self) -> Incident:
        alice, bob, carol, erin = self.u["alice"], self.u["bob"], self.u["carol"], self.u["erin"]
        r = self.replay(self.present - timedelta(hours=22, minutes=14))
        with r.after(0):
            inc = actions.declare(
                title="Customers cannot sign in: Auth Service returning 503",
                severity=self.sev["SEV-1"], incident_type=self.type["availability"],
                services=[self.svc["auth-service"], self.svc["web-frontend"]],
                summary="Alertmanager: AuthServiceErrorRateHigh firing, 5xx ratio 0.93 over 5 min.",
                origin=Incident.Origin.MONITORING, actor=None, source=SYSTEM_SRC,
                detected_at=r.now - timedelta(minutes=1),
            )
        # Nobody answers the first page: five minutes on, the engine pages the on-call engineer
        # again and wakes the team lead (Alice), who takes command.
        on_call = self.on_call("platform-primary", r.now) or bob
        with r.after(6):
            actions.acknowledge(inc, actor=on_call, source=ADMIN_SRC)
            actions.add_note(inc, "Missed the first page; on it now. The sign-in page returns 503 for me too.",
                             actor=on_call, source=ADMIN_SRC)
        with r.after(1):
            actions.assign_role(inc, alice, Role.COMMANDER, actor=alice, source=ADMIN_SRC)
        with r.after(1):
            actions.assign_role(inc, bob, Role.TECHNICAL_LEAD, actor=alice, source=ADMIN_SRC)
            actions.assign_role(inc, carol, Role.COMMUNICATIONS_LEAD, actor=alice, source=ADMIN_SRC)
            actions.assign_role(inc, erin, Role.SCRIBE, actor=alice, source=ADMIN_SRC)
        with r.after(1):
            actions.post_update(
                inc, "We are investigating problems signing in to your account. Customers who are already "
                "signed in are not affected.", actor=carol, source=ADMIN_SRC, visibility="external",
            )
            self.done(inc, "Post the first status update", actor=carol)
        with r.after(2):
            actions.add_evidence(
                inc, "https://logs.example.com/app/discover#/view/auth-service-errors?time=now-30m",
                kind=EvidenceLink.Kind.LOGS, title="auth-service errors, last 30 min", actor=bob, source=ADMIN_SRC,
            )
            actions.add_note(
                inc, "auth-service logs: `SSL error: certificate verify failed (certificate has expired)` "
                "connecting to auth-db.internal. New connections fail; pooled ones still work, hence 7 % success.",
                actor=bob, source=ADMIN_SRC,
            )
        with r.after(1):
            actions.change_status(inc, S.IDENTIFIED, actor=alice, source=ADMIN_SRC,
                                  message="The TLS certificate of auth-db.internal expired 20 minutes before the alert.")
        with r.after(1):
            actions.update_details(
                inc, actor=alice, source=ADMIN_SRC, users_affected_estimated=25000,
                regions=["eu-west-1", "us-east-1", "ap-southeast-2"],
                revenue_impact=Incident.ImpactLevel.HIGH, reputation_impact=Incident.ImpactLevel.HIGH,
                impact_description="No new sign-ins anywhere; existing sessions kept working.",
            )
            actions.post_update(
                inc, "Cause: expired certificate between auth-service and its database. Rotating it now; "
                "ETA 15 minutes.", actor=alice, source=ADMIN_SRC,
            )
        with r.after(9):
            actions.add_note(inc, "New certificate issued from the internal CA and deployed to auth-db.",
                             actor=bob, source=ADMIN_SRC)
        with r.after(3):
            actions.update_details(
                inc, actor=bob, source=ADMIN_SRC, mitigation=Incident.Mitigation.FIX_FORWARD,
                mitigation_notes="Rotated the auth-db.internal certificate; restarted auth-service pods to drop "
                "failed connections.",
            )
            actions.post_update(
                inc, "A fix has been implemented and sign-ins are recovering. We are monitoring.",
                actor=carol, source=ADMIN_SRC, visibility="external", status=S.MONITORING,
            )
        with r.after(10):
            actions.post_update(
                inc, "Sign-in success rate 99.8 % for 10 minutes. Post-mortem owner: Bob. Follow-up: alert "
                "on certificates expiring within 14 days.", actor=alice, source=ADMIN_SRC,
            )
        with r.after(4):
            actions.resolve(
                inc, actor=alice, source=ADMIN_SRC, mitigation=Incident.Mitigation.FIX_FORWARD,
                summary="The auth-db.internal certificate expired; it was not in the expiry monitoring. "
                "Rotated and restarted; sign-ins recovered 26 minutes after the alert.",
            )
            actions.post_update(
                inc, "This incident has been resolved. Signing in works normally again.",
                actor=carol, source=ADMIN_SRC, visibility="external",
            )
        with r.after(5):
            actions.update_details(inc, actor=alice, source=ADMIN_SRC, users_affected_confirmed=21480)
        return inc

    # Five hours ago: a SEV-3 now monitoring after a workaround.
    def monitoring_stale_search(self) -> Incident:
        alice, erin = self.u["alice"], self.u["erin"]
        r = self.replay(self.present - timedelta(hours=5, minutes=3))
        with r.after(0):
            inc = actions.declare(
                title="Search results stale: indexer lagging about 25 minutes",
                severity=self.sev["SEV-3"], incident_type=self.type["data"],
                services=[self.svc["search"]],
                summary="New and repriced products take 25+ minutes to show in search; prices in results "
                "can be out of date.",
                origin=Incident.Origin.MONITORING, actor=erin, source=ADMIN_SRC, commander=erin,
                detected_at=r.now - timedelta(minutes=9),
            )
        with r.after(4):
            actions.acknowledge(inc, actor=erin, source=ADMIN_SRC)
        with r.after(6):
            actions.add_evidence(
                inc, "https://grafana.example.com/d/search-indexer/search-indexer-lag",
                title="Search / Indexer lag", actor=erin, source=ADMIN_SRC,
            )
            actions.add_note(
                inc, "The weekly full reindex started four hours late (its cron moved with the DST change) "
                "and is competing with the live indexer for the same write queue.",
                actor=erin, source=ADMIN_SRC,
            )
        with r.after(3):
            actions.post_update(
                inc, "Search is showing data up to 25 minutes old. Pausing the full reindex to let live "
                "updates through.", actor=erin, source=ADMIN_SRC,
            )
        with r.after(2):
            self.done(inc, "Stop the writes", actor=erin)
            actions.update_details(
                inc, actor=erin, source=ADMIN_SRC, mitigation=Incident.Mitigation.WORKAROUND,
                mitigation_notes="Paused reindex-full (`searchctl jobs pause reindex-full`); will rerun tonight.",
                regions=["eu-west-1"],
            )
        with r.after(18):
            actions.change_status(inc, S.MONITORING, actor=erin, source=ADMIN_SRC,
                                  message="Lag down to 40 s and falling.")
        with r.after(1):
            actions.assign_role(inc, alice, Role.COMMUNICATIONS_LEAD, actor=erin, source=ADMIN_SRC)
            actions.post_update(
                inc, "Search results are up to date again. Watching until tonight's reindex has run.",
                actor=erin, source=ADMIN_SRC,
            )
        with r.after(hours=2, minutes=30):
            actions.post_update(
                inc, "Lag steady under 5 s. Reindex rescheduled for 02:00 UTC; will resolve tomorrow morning.",
                actor=erin, source=ADMIN_SRC,
            )
        return inc

    # Restricted: only Carol, Alice and whoever the engine pages take part; everyone else does not see it.
    def identified_security_sign_ins(self) -> Incident:
        alice, carol = self.u["alice"], self.u["carol"]
        r = self.replay(self.present - timedelta(hours=4, minutes=12))
        with r.after(0):
            inc = actions.declare(
                title="Suspicious back-office sign-ins from an unfamiliar network",
                severity=self.sev["SEV-2"], incident_type=self.type["security"],
                services=[self.svc["auth-service"], self.svc["internal-admin-tools"]],
                summary="Three successful sign-ins to Internal Admin Tools from a hosting provider we do not "
                "use, on a contractor account, outside its usual hours.",
                origin=Incident.Origin.INTERNAL, actor=carol, source=ADMIN_SRC, commander=alice,
                detected_at=r.now - timedelta(minutes=20),
            )
        with r.after(2):
            actions.acknowledge(inc, actor=carol, source=ADMIN_SRC)
            self.done(inc, "Keep the incident restricted", actor=carol)
        with r.after(4):
            actions.add_evidence(
                inc, "https://logs.example.com/app/discover#/view/admin-sign-ins?time=now-24h",
                kind=EvidenceLink.Kind.LOGS, title="Admin tools sign-ins, 24 h", actor=alice, source=ADMIN_SRC,
            )
            self.done(inc, "Preserve evidence", actor=alice)
        with r.after(3):
            actions.add_note(
                inc, "Disabled the contractor account and revoked its sessions and API tokens. Sign-ins "
                "stopped; no new ones from that network since.", actor=alice, source=ADMIN_SRC,
            )
            self.done(inc, "Contain", actor=alice)
        with r.after(6):
            actions.add_note(
                inc, "The attacker viewed 6 customer profiles (names, emails, order history). No exports, "
                "no refunds issued, no changes made.", actor=alice, source=ADMIN_SRC,
            )
        with r.after(2):
            actions.change_status(
                inc, S.IDENTIFIED, actor=alice, source=ADMIN_SRC,
                message="Contractor's password reused from a third-party breach; the account had no MFA.",
            )
        with r.after(1):
            actions.update_details(
                inc, actor=carol, source=ADMIN_SRC, users_affected_confirmed=6,
                compliance_impact=Incident.ImpactLevel.MEDIUM, reputation_impact=Incident.ImpactLevel.LOW,
                impact_description="Personal data of 6 customers viewed by an unauthorised party.",
            )
        with r.after(5):
            self.done(inc, "Engage the security lead", actor=carol)
            actions.post_update(
                inc, "Contained. 6 customers' data viewed, nothing exported. Legal engaged for the 72-hour "
                "notification assessment; MFA enforcement for contractors ships today.",
                actor=carol, source=ADMIN_SRC,
            )
        # The update cadence nags; Alice answers the first reminder, then the wait for legal is long.
        with r.after(32):
            actions.post_update(
                inc, "Checked the other 212 contractor accounts: no sign-ins from that network or any other "
                "unknown one. Password resets forced for every contractor.", actor=alice, source=ADMIN_SRC,
            )
        with r.until(self.present - timedelta(minutes=14)):
            actions.post_update(
                inc, "Legal: notifying the 6 customers by email; regulator notification not required. "
                "MFA now enforced for every back-office account.", actor=carol, source=ADMIN_SRC,
            )
        return inc

    # Fifty minutes ago: escalated to SEV-2, cause identified, fix under way.
    def identified_checkout_latency(self) -> Incident:
        alice, bob, carol, erin = self.u["alice"], self.u["bob"], self.u["carol"], self.u["erin"]
        r = self.replay(self.present - timedelta(minutes=52))
        with r.after(0):
            inc = actions.declare(
                title="Checkout API: slow order submission and 504s",
                severity=self.sev["SEV-3"], incident_type=self.type["performance"],
                services=[self.svc["checkout-api"]],
                summary="p99 of POST /orders at 8 s (SLO 1.5 s); some submissions end in a 504.",
                origin=Incident.Origin.MONITORING, actor=erin, source=ADMIN_SRC,
                detected_at=r.now - timedelta(minutes=3),
            )
        with r.after(1):
            actions.acknowledge(inc, actor=erin, source=ADMIN_SRC)
        with r.after(2):
            actions.add_evidence(
                inc, "https://grafana.example.com/d/checkout/checkout-api?var-route=POST%20%2Forders",
                title="Checkout API / POST /orders", actor=erin, source=ADMIN_SRC,
            )
            self.done(inc, "Confirm latency", actor=erin)
        with r.after(3):
            actions.add_note(
                inc, "504 rate 6 % and rising with traffic. These are customers failing to buy.",
                actor=erin, source=ADMIN_SRC,
            )
        with r.after(1):
            actions.change_severity(inc, self.sev["SEV-2"], actor=alice, source=ADMIN_SRC,
                                    reason="Order submissions failing for a growing share of customers.")
            actions.assign_role(inc, alice, Role.COMMANDER, actor=alice, source=ADMIN_SRC)
        with r.after(1):
            actions.assign_role(inc, bob, Role.TECHNICAL_LEAD, actor=alice, source=ADMIN_SRC)
            actions.assign_role(inc, carol, Role.COMMUNICATIONS_LEAD, actor=alice, source=ADMIN_SRC)
        with r.after(2):
            actions.post_update(
                inc, "Some customers see slow or failed order submission. We are investigating.",
                actor=carol, source=ADMIN_SRC, visibility="external",
            )
            self.done(inc, "Post the first status update", actor=carol)
        with r.after(4):
            actions.add_evidence(
                inc, "https://tempo.example.com/trace/4bf92f3577b34da6a3ce929d0e0e4736",
                kind=EvidenceLink.Kind.TRACE, title="Slow POST /orders trace (7.9 s)", actor=bob, source=ADMIN_SRC,
            )
            self.done(inc, "Find the slowest component", actor=bob)
            actions.add_note(
                inc, "7.6 s of the trace is one query: `SELECT … FROM orders WHERE customer_id = $1 AND status = "
                "'open'` doing a sequential scan on 48M rows.", actor=bob, source=ADMIN_SRC,
            )
        with r.after(3):
            actions.change_status(
                inc, S.IDENTIFIED, actor=alice, source=ADMIN_SRC,
                message="Last night's migration 0142 dropped the orders (customer_id, status) index.",
            )
            actions.update_details(
                inc, actor=alice, source=ADMIN_SRC,
                services=[self.svc["checkout-api"], self.svc["primary-postgresql"]],
                users_affected_estimated=1800, regions=["eu-west-1"],
                revenue_impact=Incident.ImpactLevel.MEDIUM,
                impact_description="About 6 % of order submissions fail at peak; the rest are slow.",
            )
        with r.after(2):
            actions.post_update(
                inc, "Cause found: a missing database index after last night's release. Recreating it "
                "concurrently, about 20 minutes on 48M rows. Next update in 30 minutes at the latest.",
                actor=alice, source=ADMIN_SRC,
            )
        with r.after(1):
            actions.post_update(
                inc, "We have identified the cause of slow order submission and are applying a fix.",
                actor=carol, source=ADMIN_SRC, visibility="external",
            )
        with r.after(15):
            actions.add_note(inc, "CREATE INDEX CONCURRENTLY at 61 % (pg_stat_progress_create_index).",
                             actor=bob, source=ADMIN_SRC)
        with r.after(6):
            actions.post_update(
                inc, "Index build at about 80 %. 504 rate down to 3 % as traffic eases.",
                actor=alice, source=ADMIN_SRC,
            )
        return inc

    # Four minutes ago, from monitoring: nobody has acknowledged yet, so the five-minute
    # acknowledge SLA shows as due soon, and as breached a minute later, when the engine pages
    # again live. Counted from the real clock, not the whole minute the other stories use, so
    # that breach is still a minute ahead when seeding ends.
    def triggered_frontend_502s(self) -> Incident:
        r = self.replay(timezone.now().replace(microsecond=0) - timedelta(minutes=4))
        with r.after(0):
            inc = actions.declare(
                title="Web Frontend: 502s from the CDN origin in eu-west-1",
                severity=self.sev["SEV-1"], incident_type=self.type["availability"],
                services=[self.svc["web-frontend"]],
                summary="Alertmanager: OriginErrorRateCritical firing for web-frontend, 502 ratio 0.41 over 2 min.",
                origin=Incident.Origin.MONITORING, actor=None, source=SYSTEM_SRC,
                detected_at=r.now - timedelta(minutes=1),
            )
        with r.after(1):
            actions.add_evidence(
                inc, "https://grafana.example.com/d/edge-origin/edge-origin?var-region=eu-west-1",
                title="Edge / Origin (from the alert)", actor=None, source=SYSTEM_SRC,
            )
        return inc
