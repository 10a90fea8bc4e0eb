"""The apps' layering: each app imports only from apps above it (oncall → incidents → postmortems → comms).

A lower app reaches a higher one only through a registry the higher app fills in its
`AppConfig.ready()`; these are all of them:
- `incidents.timeline.reactions` (`timeline.react(name, function, when=...)`): after incident
  events are recorded, in this order,
  - "postmortems.open_on_resolve", in the transaction: a resolution that requires a post-mortem
    opens one (or refreshes its timeline after a reopen);
  - "comms.want_war_room", in the transaction: a declaration or severity change of a severity that
    opens war rooms writes the incident's WarRoom row (when a chat workspace is connected), before
    routing judges the event (the room hears it);
  - "comms.stamp_unrouted", in the transaction: events nobody is told about are marked
    dispatched, so they never wait for the outbox;
  - "comms.dispatch", after commit: the events someone must hear about are enqueued for dispatch;
  - "comms.war_room", after commit: opening, inviting and archiving war rooms are queued.
- `incidents.lifecycle.close_guards`: postmortems' `close_guard`, an incident that requires a
  post-mortem closes only once it is published.
- `oncall.notices.provide`: comms' outbox writer (`comms.notices.send`) delivers the on-call app's
  messages (shift cover requests and their answers) as email notifications.
- `oncall.ranks.provide`: incidents names the severity ranks (`IncidentsConfig.ready`), so the
  escalation matrix heads its columns with the organisation's own severity names.
- `incidents.contacts.provide`: comms reads people's contact methods (`comms.contact_methods`), so
  the incident page shows how to reach each role holder (phone, chat handle, email).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["oncall", "incidents", "postmortems", "comms"]


def imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & set(LAYERS)


@pytest.mark.parametrize("app", LAYERS)
def test_apps_import_only_from_lower_layers(app):
    allowed = set(LAYERS[: LAYERS.index(app) + 1])
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_apps(path) - allowed)
        for path in (ROOT / app).rglob("*.py")
        if imported_apps(path) - allowed
    }
    assert offenders == {}


def test_the_registries_hold_exactly_the_documented_hooks():
    from incidents import lifecycle, timeline
    from postmortems import services

    assert timeline.registered() == [
        ("postmortems.open_on_resolve", "postmortems", "in_transaction"),
        ("comms.want_war_room", "comms", "in_transaction"),
        ("comms.stamp_unrouted", "comms", "in_transaction"),
        ("comms.dispatch", "comms", "after_commit"),
        ("comms.war_room", "comms", "after_commit"),
    ]
    assert lifecycle.close_guards == [services.close_guard]
    from oncall import notices

    assert notices.registered() == ["comms.notices.send"]
    from incidents import contacts

    assert contacts.registered() == ["comms.contact_methods"]


def test_a_reaction_runs_in_the_transaction_or_after_commit_only():
    from incidents import timeline

    with pytest.raises(ValueError, match="after_commit"):
        timeline.react("elsewhere.sometime", print, when="later")
