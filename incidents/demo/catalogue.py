"""The demo catalogue: people, teams, on-call schedules, escalation policies and services, created
once (a second run finds them by slug and leaves them, and anything an operator changed, alone)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from incidents.models import IncidentType, Service, SeverityLevel
from oncall.models import (
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
from oncall.schedules import on_call_at
from oncall.seed import DEFAULT_LEVELS

# username, first name, last name, time zone, group (the migrations make the groups).
DEMO_USERS = [
    ("alice", "Alice", "Chen", "Europe/London", "Incident commanders"),
    ("bob", "Bob", "Okafor", "America/New_York", "Responders"),
    ("carol", "Carol", "Schmidt", "Europe/Berlin", "Managers"),
    ("dave", "Dave", "Patel", "Europe/London", "Viewers"),
    ("erin", "Erin", "Walsh", "America/New_York", "Responders"),
    ("frank", "Frank", "Moreau", "America/New_York", "Managers"),  # the director, last level of escalation
]

# slug, name, description, manager, members, working-hours time zone (Monday–Friday 09:00–17:00 there)
TEAMS = [
    ("payments", "Payments", "Checkout, card processing and refunds.", "carol", ["alice", "erin", "bob"], "Europe/London"),
    ("platform", "Platform", "Databases, queues, the edge and internal tooling.", "carol", ["bob", "dave"], "Europe/London"),
    ("identity", "Identity", "Sign-in, sessions and account security.", "carol", ["alice", "bob"], "Europe/Berlin"),
    ("search", "Search", "Product search and the indexing pipeline.", "carol", ["erin", "dave"], "America/New_York"),
]
# Each team's public holidays (country, region), by its zone: business-hours clocks skip them.
HOLIDAYS = {"Europe/London": ("GB", "ENG"), "Europe/Berlin": ("DE", "BE"), "America/New_York": ("US", "NY")}

# On call. Schedules: slug, name, team, time zone, description, layers; a layer is
# (name, priority, rotation, hand-off time, members, restriction days, restriction start, end).
WEEKDAYS = [1, 2, 3, 4, 5]
SCHEDULES = [
    (
        "platform-primary", "Platform primary", "platform", "Europe/London",
        "First responder for Platform and for every service without a policy of its own. "
        "Weekly rotation, hands off on Monday at 09:00 London time.",
        [("Weekly rotation", 1, Layer.Rotation.WEEKLY, time(9, 0), ["bob", "erin", "alice"], [], None, None)],
    ),
    (
        "payments-primary", "Payments primary", "payments", "Europe/London",
        "Card processing and checkout. Alice covers London office hours; Erin and Bob take the "
        "rest of the day in turns, handing off at 17:00 London time.",
        [
            ("Daily rotation", 1, Layer.Rotation.DAILY, time(17, 0), ["erin", "bob"], [], None, None),
            ("London office hours", 2, Layer.Rotation.WEEKLY, time(9, 0), ["alice"], WEEKDAYS, time(9, 0), time(17, 0)),
        ],
    ),
]
# Escalation targets per level position: schedules (whoever is on call) and people.
DEFAULT_POLICY_TARGETS = {1: (["platform-primary"], []), 2: ([], ["alice"]), 3: ([], ["carol"]), 4: ([], ["frank"])}
# Policies of their own: name, team, description, targets, services that use it.
POLICIES = [
    (
        "Payments escalation", "payments",
        "The default matrix, with the Payments on-call engineer paged first. Used by the payment services.",
        {1: (["payments-primary"], []), 2: ([], ["alice"]), 3: ([], ["carol"]), 4: ([], ["frank"])},
        ["payments-gateway", "checkout-api"],
    ),
]

# slug, name, team, customer-facing, depends on (slugs), description, runbook (Markdown)
SERVICES = [
    (
        "primary-postgresql", "Primary PostgreSQL", "platform", False, [],
        "The primary PostgreSQL 16 cluster (pg-1 primary, pg-2 and pg-3 streaming replicas) behind "
        "orders, payments and accounts.",
        "## Primary PostgreSQL\n\n"
        "- Dashboard: *Postgres / Overview* in Grafana.\n"
        "- **Replication lag** above 30 s: check `pg_stat_replication` on pg-1; a replica that stays "
        "behind is taken out of the read pool with `pgpool detach`.\n"
        "- **Connections exhausted**: find the client with `SELECT usename, application_name, count(*) "
        "FROM pg_stat_activity GROUP BY 1, 2 ORDER BY 3 DESC;` and scale *it* down, not Postgres up.\n"
        "- **Failover**: `patronictl failover vigil-pg --candidate pg-2`. Writes pause for ~30 s.\n",
    ),
    (
        "payments-gateway", "Payments Gateway", "payments", True, ["primary-postgresql"],
        "Talks to our card processors: authorisations, captures and refunds.",
        "## Payments Gateway\n\n"
        "1. Check the *Payments / PSP health* dashboard: authorisation success rate should sit above 97 %.\n"
        "2. If one processor is failing, switch traffic: `payctl route --all-to secondary`.\n"
        "3. Never retry captures by hand: the reconciliation job does it and hand retries double-charge.\n",
    ),
    (
        "auth-service", "Auth Service", "identity", True, ["primary-postgresql"],
        "Sign-in, sessions, SSO and API tokens for customers and staff.",
        "## Auth Service\n\n"
        "- Sign-in errors: check the *Auth / Sign-in funnel* dashboard, then the certificates on "
        "`auth-db.internal` (`make -C ops certs-check`).\n"
        "- Suspected account takeover: **declare a Security incident** (restricted) before anything else.\n",
    ),
    (
        "checkout-api", "Checkout API", "payments", True, ["payments-gateway", "auth-service", "primary-postgresql"],
        "Baskets, orders and order submission for the web and mobile apps.",
        "## Checkout API\n\n"
        "- Latency or 5xx above SLO: compare with the last deploy (`kubectl rollout history deploy/checkout-api`) "
        "and roll back first, investigate second: `kubectl rollout undo deploy/checkout-api`.\n"
        "- Order submission depends on Payments Gateway: check its dashboard before digging here.\n",
    ),
    (
        "search", "Search", "search", True, ["primary-postgresql"],
        "Product search (OpenSearch cluster) and the indexer that feeds it from the catalogue.",
        "## Search\n\n"
        "- Stale results: look at *Search / Indexer lag*; pause the bulk reindex job with "
        "`searchctl jobs pause reindex-full` to let the live indexer catch up.\n"
        "- Cluster red: see the OpenSearch runbook linked above.\n",
    ),
    (
        "web-frontend", "Web Frontend", "platform", True, ["checkout-api", "auth-service", "search"],
        "The customer website, served through the CDN from the web-frontend pods.",
        "## Web Frontend\n\n"
        "- 5xx at the CDN: check origin health first (*Edge / Origin* dashboard), then the last deploy.\n"
        "- Purge the CDN only after the origin is healthy again.\n",
    ),
    (
        "notification-worker", "Notification Worker", "platform", False, ["primary-postgresql"],
        "Sends order and account emails and push notifications from the notifications queue.",
        "## Notification Worker\n\n"
        "- Queue backlog: *Queues / notifications* dashboard. Scale with "
        "`kubectl scale deploy/notification-worker --replicas=12`.\n"
        "- A poison message shows as one message retried forever: move it to the dead-letter queue.\n",
    ),
    (
        "internal-admin-tools", "Internal Admin Tools", "platform", False, ["auth-service", "primary-postgresql"],
        "Back-office tools for support and finance: refunds, exports, account lookups.",
        "",
    ),
]


def ensure_catalog(present: datetime) -> dict:
    """Create whatever of the catalogue is missing; return the rows the stories refer to, by key."""
    people = {u.username: u for u in User.objects.filter(username__in=[row[0] for row in DEMO_USERS])}
    teams = {}
    for slug, name, description, manager, members, tz in TEAMS:
        team, created = Team.objects.get_or_create(
            slug=slug,
            defaults=dict(
                name=name, description=description, manager=people.get(manager), time_zone=tz,
                holiday_country=HOLIDAYS[tz][0], holiday_subdivision=HOLIDAYS[tz][1],
            ),
        )
        if created:
            team.members.add(*[people[m] for m in members if m in people])
        teams[slug] = team
    schedules = ensure_schedules(teams, people, present)
    policies = ensure_policies(teams, schedules, people)
    services = {}
    for slug, name, team, customer_facing, depends_on, description, runbook in SERVICES:
        service, created = Service.objects.get_or_create(
            slug=slug,
            defaults=dict(
                name=name,
                owning_team=teams[team],
                customer_facing=customer_facing,
                description=description,
                runbook=runbook,
                runbook_url=f"https://wiki.example.com/runbooks/{slug}",
                # A room per incident (example.com: no demo user lands in someone else's call).
                call_bridge_url="https://meet.example.com/vigil-{slug}",
                escalation_policy=policies.get(slug),
            ),
        )
        if created:
            service.depends_on.add(*[services[d] for d in depends_on])
        services[slug] = service
    return {
        "users": people,
        "services": services,
        "schedules": schedules,
        "severities": {s.name: s for s in SeverityLevel.objects.all()},
        "types": {t.slug: t for t in IncidentType.objects.all()},
    }


def ensure_schedules(teams: dict, people: dict, present: datetime) -> dict:
    """The rotations, started weeks before the oldest demo incident so its pages reach someone,
    and one holiday cover in the coming week."""
    schedules = {}
    for slug, name, team, tz, description, layers in SCHEDULES:
        schedule, created = Schedule.objects.get_or_create(
            slug=slug, defaults=dict(name=name, team=teams[team], time_zone=tz, description=description)
        )
        schedules[slug] = schedule
        if not created:
            continue
        # Six weeks before the latest Monday hand-off: the first member (Bob) holds the current
        # week, the others the weeks the older demo incidents fall in.
        local = present.astimezone(schedule.tz)
        monday = local.date() - timedelta(days=local.weekday())
        if local.weekday() == 0 and local.time() < time(9, 0):
            monday -= timedelta(days=7)
        start_date = monday - timedelta(weeks=6)
        for layer_name, priority, rotation, handoff, members, days, start, end in layers:
            layer = Layer.objects.create(
                schedule=schedule, name=layer_name, priority=priority, rotation=rotation, start_date=start_date,
                handoff_time=handoff, restriction_days=days, restriction_start=start, restriction_end=end,
            )
            LayerMember.objects.bulk_create(
                LayerMember(layer=layer, user=people[username], position=position)
                for position, username in enumerate(members, 1)
            )
        if slug == "platform-primary":
            holiday_cover(schedule, [people[u] for u in layers[0][4]], present)
    return schedules


def holiday_cover(schedule: Schedule, rotation: list, present: datetime) -> None:
    """Whoever is on call two days from now takes two days off; the next in the rotation covers."""
    local_day = present.astimezone(schedule.tz).date() + timedelta(days=2)
    start = datetime.combine(local_day, time(9, 0), tzinfo=schedule.tz)
    away = on_call_at(schedule, start)
    if not away:
        return
    cover = rotation[(rotation.index(away[0]) + 1) % len(rotation)]
    Override.objects.create(
        schedule=schedule, user=cover, start=start, end=start + timedelta(days=2),
        reason=f"Holiday cover: {away[0].first_name} is on leave", created_by=cover,
    )


def ensure_policies(teams: dict, schedules: dict, people: dict) -> dict:
    """Targets for the default policy's levels (seeded empty by migration oncall/0003), and
    policies of their own for some services. Returns {service slug: policy}."""
    default = EscalationPolicy.objects.filter(is_default=True).first()
    if default is not None:
        fill_levels(default, DEFAULT_POLICY_TARGETS, schedules, people)
    by_service = {}
    for name, team, description, targets, services in POLICIES:
        policy, created = EscalationPolicy.objects.get_or_create(
            name=name, defaults=dict(team=teams[team], description=description, loop_count=3)
        )
        if created:
            # The response matrix of the default policy, as migration oncall/0003 seeds it.
            for position, (level_name, cells) in enumerate(DEFAULT_LEVELS, 1):
                level = EscalationLevel.objects.create(policy=policy, position=position, name=level_name)
                EscalationDelay.objects.bulk_create(
                    EscalationDelay(level=level, severity_rank=rank, delay=delay, business_hours=business_hours)
                    for rank, (delay, business_hours) in cells.items()
                )
            fill_levels(policy, targets, schedules, people)
        by_service.update(dict.fromkeys(services, policy))
    return by_service


def fill_levels(policy: EscalationPolicy, targets: dict, schedules: dict, people: dict) -> None:
    """Point each level at its targets, leaving alone any level an operator already filled."""
    for level in policy.levels.prefetch_related("users", "schedules"):
        if level.position not in targets or level.users.all() or level.schedules.all():
            continue
        schedule_slugs, usernames = targets[level.position]
        level.schedules.add(*[schedules[slug] for slug in schedule_slugs])
        level.users.add(*[people[username] for username in usernames])
