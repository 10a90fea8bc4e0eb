"""What the benchmarks measure, and the data they measure it on (all made through incidents.actions)."""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from incidents import actions, clock, selectors
from incidents.models import Incident, IncidentType, Participant, Service, SeverityLevel, Source, TimelineEvent
from oncall.models import Team, User

from .measure import Row, count_queries, time_ms

ADMIN = Source.ADMIN
Role = Participant.Role
S = Incident.Status

# Spacing between the declarations of the populated incidents, oldest first.
SPACING = timedelta(minutes=15)


class World:
    """The people, services and reference data every scenario uses."""

    def __init__(self, *, max_incidents: int):
        self.superuser = _user("bench-admin", is_superuser=True)
        self.commander = _user("bench-ic", group="Incident commanders")
        self.responder = _user("bench-responder", group="Responders")
        team = Team.objects.create(name="Bench team", slug="bench-team", manager=self.commander)
        team.members.add(self.commander, self.responder)
        self.services = [
            Service.objects.create(
                name=f"Bench service {i}", slug=f"bench-service-{i}", owning_team=team, customer_facing=i % 2 == 0
            )
            for i in range(8)
        ]
        self.sev = {s.name: s for s in SeverityLevel.objects.all()}
        self.types = {t.slug: t for t in IncidentType.objects.all()}
        # Populated incidents are declared from here on, far enough back that the longest
        # story (a SEV-1 closed after its 24-hour observation) still ends in the past.
        self.history_start = timezone.now() - SPACING * (max_incidents + 10) - timedelta(days=2)


def _user(username: str, *, is_superuser: bool = False, group: str | None = None) -> User:
    user = User(username=username, first_name=username.title(), is_staff=True, is_superuser=is_superuser)
    user.set_unusable_password()
    user.save()
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


# --- Data -----------------------------------------------------------------------------------


def populate(world: World, total: int) -> None:
    """Top the incident table up to `total` rows: a mix of states, types, restricted ones and
    drills, each with the timeline its history gives it. One transaction for the lot: the
    data is what matters here, not the commits (declare_rate measures those)."""
    with transaction.atomic():
        for i in range(Incident.objects.count(), total):
            _story(world, i)


def _story(world: World, i: int) -> None:
    t = world.history_start + SPACING * i
    sev = world.sev[f"SEV-{1 + i % 4}"]
    kind = ("availability", "performance", "data", "availability", "performance")[i % 5]
    if i % 13 == 0:
        kind = "security"  # restricted by default
    ic, responder = world.commander, world.responder
    services = [world.services[i % 8], world.services[(i * 3 + 1) % 8]]

    def at(minutes: float):
        return clock.at(t + timedelta(minutes=minutes))

    with at(0):
        inc = actions.declare(
            title=f"Bench incident {i}: elevated errors on {services[0].name}",
            severity=sev, incident_type=world.types[kind], services=services,
            actor=ic, source=ADMIN, commander=ic if i % 3 else None, is_drill=i % 17 == 0,
        )
    state = i % 10
    if state == 6:
        return  # triggered
    with at(2):
        actions.acknowledge(inc, actor=responder, source=ADMIN)
    with at(4):
        actions.post_update(inc, "Investigating elevated error rates; next update in 15 minutes.", actor=ic, source=ADMIN)
    if state == 7:
        return  # investigating
    with at(9):
        actions.change_status(inc, S.IDENTIFIED, actor=ic, source=ADMIN, message="Bad deploy identified.")
    if state == 8:
        return
    with at(12):
        actions.change_status(inc, S.MONITORING, actor=ic, source=ADMIN, message="Rolled back.")
    if state == 9:
        return
    with at(30):
        inc = actions.resolve(inc, actor=ic, source=ADMIN, summary="Rollback held for 15 minutes.")
    if state in (4, 5):
        return  # resolved
    with at(31 + sev.observation_period.total_seconds() / 60):
        _publish_postmortem(inc)  # severities that require one are closed only once it is published
        actions.close(inc, actor=ic, source=ADMIN)


def _publish_postmortem(incident: Incident) -> None:
    from postmortems.actions import publish, submit_for_review
    from postmortems.models import PostMortem

    postmortem = PostMortem.objects.filter(incident=incident).first()
    if postmortem is not None and postmortem.status != PostMortem.Status.PUBLISHED:
        if postmortem.status == PostMortem.Status.DRAFT:
            postmortem = submit_for_review(postmortem)
        publish(postmortem)


@transaction.atomic
def incident_with_events(world: World, events: int) -> Incident:
    """One SEV-1 with roles, evidence, tasks and exactly `events` timeline events, as a
    long-running incident's change page has."""
    t = timezone.now() - timedelta(minutes=events + 5)
    ic, responder = world.commander, world.responder
    with clock.at(t):
        inc = actions.declare(
            title=f"Bench: incident with {events} timeline events", severity=world.sev["SEV-1"],
            incident_type=world.types["availability"], services=world.services[:3],
            actor=ic, source=ADMIN, commander=ic,
        )
    steps = [
        lambda: actions.acknowledge(inc, actor=responder, source=ADMIN),
        lambda: actions.assign_role(inc, responder, Role.TECHNICAL_LEAD, actor=ic, source=ADMIN),
        lambda: actions.add_evidence(inc, "https://grafana.example.com/d/bench", title="Dashboard", actor=ic, source=ADMIN),
        lambda: actions.set_task_done(inc.tasks.first(), True, actor=responder, source=ADMIN),
    ]
    n = 1
    for step in steps:
        n += 1
        with clock.at(t + timedelta(minutes=n)):
            step()
    while TimelineEvent.objects.filter(incident=inc).count() < events:
        n += 1
        with clock.at(t + timedelta(minutes=n)):
            if n % 3:
                actions.add_note(inc, f"Note {n}: checked the pods in eu-west-1, still restarting.", actor=responder, source=ADMIN)
            else:
                visibility = "external" if n % 2 else "internal"
                actions.post_update(inc, f"Update {n}: still mitigating.", actor=ic, source=ADMIN, visibility=visibility)
    return inc


# --- Measurements ---------------------------------------------------------------------------


def declare_rate(world: World, *, count: int, repeats: int) -> list[Row]:
    """Incidents declared per second through actions.declare, one transaction each."""
    variants = {
        "bare: 1 service": dict(services=world.services[:1]),
        "type checklist (6 tasks), 2 services, commander": dict(
            services=world.services[:2], incident_type=world.types["availability"], commander=world.commander
        ),
    }
    numbers = itertools.count(1)
    rows = []
    for name, extra in variants.items():
        def one(extra=extra):
            actions.declare(
                title=f"Declared by the benchmark #{next(numbers)}", severity=world.sev["SEV-2"],
                actor=world.responder, source=ADMIN, **extra,
            )

        queries = count_queries(one)
        size = f"{count}/run, {Incident.objects.count():,} in table"
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(count):
                one()
            samples.append(count / (time.perf_counter() - start))
        rows.append(Row("declare (actions.declare)", name, size, "/s", samples, queries))
    return rows


def list_query(world: World, *, rows_label: str, repeats: int) -> list[Row]:
    """Every visible incident with what a list row shows: severity, type, services, commander
    and the last update. The selector does it in a fixed number of queries; the naive loop
    makes several per row."""
    user = world.superuser

    def with_selector():
        for inc in selectors.incident_list(user).order_by("-declared_at"):
            _ = (
                inc.reference, inc.severity.name, inc.incident_type.name if inc.incident_type else "",
                [s.name for s in inc.services.all()], [str(p.user) for p in inc.commanders], inc.last_update_at,
            )

    def naive():
        for inc in Incident.objects.order_by("-declared_at"):
            commander = inc.participants.filter(role=Role.COMMANDER, left_at=None).first()
            _ = (
                inc.reference, inc.severity.name, inc.incident_type.name if inc.incident_type_id else "",
                [s.name for s in inc.services.all()], str(commander.user) if commander else "",
                selectors.last_update_at(inc),
            )

    rows = []
    for name, fn in (("selectors.incident_list", with_selector), ("naive queryset, per-row lookups", naive)):
        queries = count_queries(fn)
        rows.append(Row("incident list query, all rows", name, rows_label, "ms", time_ms(fn, repeats), queries))
    return rows


def _admin_url(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _page(client: Client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    assert response.content  # rendered


def changelist(world: World, *, rows_label: str, repeats: int) -> list[Row]:
    """The admin incident list, first page, as a superuser and as a commander (whose
    queryset also filters out restricted incidents they do not take part in)."""
    url = _admin_url("admin:incidents_incident_changelist")
    rows = []
    for name, user in (("superuser", world.superuser), ("commander (restricted filter)", world.commander)):
        if url is None:
            rows.append(Row("admin incident changelist", name, rows_label, "ms", note="skipped: not in the admin"))
            continue
        client = Client()
        client.force_login(user)
        _page(client, url)  # warm-up: first request of a session
        queries = count_queries(lambda: _page(client, url))
        rows.append(
            Row("admin incident changelist", name, rows_label, "ms", time_ms(lambda: _page(client, url), repeats), queries)
        )
    return rows


def change_page(world: World, incidents: dict[int, Incident], *, repeats: int) -> list[Row]:
    """The admin incident change page (form, roles, tasks, evidence, timeline)."""
    rows = []
    client = Client()
    client.force_login(world.superuser)
    for events, incident in incidents.items():
        url = _admin_url("admin:incidents_incident_change", incident.pk)
        label = f"{events} events"
        if url is None:
            rows.append(Row("admin incident change page", "superuser", label, "ms", note="skipped: not in the admin"))
            continue
        _page(client, url)  # warm-up
        queries = count_queries(lambda: _page(client, url))
        rows.append(
            Row("admin incident change page", "superuser", label, "ms", time_ms(lambda: _page(client, url), repeats), queries)
        )
    return rows


def now_label() -> str:
    return datetime.now(tz=timezone.get_current_timezone()).strftime("%Y-%m-%d %H:%M %Z")
