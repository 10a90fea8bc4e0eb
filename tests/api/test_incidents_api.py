"""The incidents API: list (filters, cursor pages, a fixed number of queries), declare, read and
work incidents by reference, timeline and tasks — with scopes, permissions and restricted
incidents answered as the admin answers them."""

import base64
import datetime as dt
import json

import pytest
from django.utils import timezone

from incidents import actions
from incidents.models import Incident, IncidentTask, Participant, Source, Status, TimelineEvent
from tests.incidents.factories import IncidentFactory, ServiceFactory, incident_type, severity
from tests.api.keys import auth
from tests.oncall.factories import UserFactory

pytestmark = pytest.mark.usefixtures("fresh_rate_windows")

BASE = "/api/v1/incidents"


def call(client, method: str, path: str, headers: dict, body=None):
    kwargs = dict(headers)
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(path, **kwargs)


@pytest.fixture
def ic(commander):
    return auth(commander)


# --- Reading ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_get_by_reference_or_number_shows_the_incident(client, incident, commander, service):
    headers = auth(commander, "read")
    for ref in (incident.reference, str(incident.number), incident.reference.lower()):
        response = client.get(f"{BASE}/{ref}", **headers)
        assert response.status_code == 200, response.content
    body = response.json()
    assert body["reference"] == incident.reference and body["number"] == incident.number
    assert body["severity"] == {"name": "SEV-2", "rank": 2, "label": incident.severity.label}
    assert body["status"] == "triggered" and body["services"] == ["checkout-api"]
    assert body["commander"] == {"username": "ic", "name": str(commander)}
    assert body["customer_facing"] is True and body["restricted"] is False and body["drill"] is False
    assert body["declared_at"].endswith("Z") or body["declared_at"].endswith("+00:00")
    assert body["acknowledged_at"] is None
    assert body["sla"]["state"] in ("on time", "due soon", "breached") and body["sla"]["target"]
    assert body["url"].endswith(f"/admin/incidents/incident/{incident.pk}/change/")
    assert {"username": "ic", "name": str(commander), "role": "commander", "joined_at": body["participants"][0]["joined_at"]} in body["participants"]


@pytest.mark.django_db
@pytest.mark.parametrize("ref", ["INC-999", "999", "nonsense", "INC-", "0x12"])
def test_unknown_references_are_404(client, incident, commander, ref):
    response = client.get(f"{BASE}/{ref}", **auth(commander, "read"))
    assert response.status_code == 404
    assert response.json()["detail"].startswith("No incident ")
    assert client.get(f"{BASE}/INC-999", **auth(commander, "read")).json() == {"detail": "No incident INC-999."}


@pytest.fixture
def breach(commander):
    return IncidentFactory(actor=commander, incident_type=incident_type("security"), commander=commander)


@pytest.mark.django_db
def test_a_restricted_incident_is_404_for_outsiders_exactly_like_a_missing_one(client, breach, responder, commander):
    assert breach.is_restricted
    outsider = auth(responder)
    hidden = client.get(f"{BASE}/{breach.reference}", **outsider)
    missing = client.get(f"{BASE}/INC-{breach.number + 100}", **outsider)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == {"detail": f"No incident {breach.reference}."}
    for path in ("timeline", "tasks"):
        assert client.get(f"{BASE}/{breach.reference}/{path}", **outsider).status_code == 404
    assert call(client, "post", f"{BASE}/{breach.reference}/acknowledge", outsider).status_code == 404
    assert breach.reference not in [i["reference"] for i in client.get(BASE, **outsider).json()["items"]]

    actions.assign_role(breach, responder, Participant.Role.SUBJECT_MATTER_EXPERT, actor=commander, source=Source.ADMIN)
    seen = client.get(f"{BASE}/{breach.reference}", **outsider)
    assert seen.status_code == 200 and seen.json()["restricted"] is True
    assert breach.reference in [i["reference"] for i in client.get(BASE, **outsider).json()["items"]]


@pytest.mark.django_db
def test_a_restricted_incident_is_visible_to_the_restricted_permission(client, breach, manager):
    assert client.get(f"{BASE}/{breach.reference}", **auth(manager, "read")).status_code == 200


@pytest.mark.django_db
def test_no_key_is_401_and_a_user_without_view_permission_is_403(client, incident):
    assert client.get(BASE).status_code == 401
    assert client.get(f"{BASE}/{incident.reference}").status_code == 401
    nobody = UserFactory(username="nobody")  # in no group
    response = client.get(BASE, **auth(nobody, "read"))
    assert response.status_code == 403 and "incidents.view_incident" in response.json()["detail"]


@pytest.mark.django_db
def test_read_endpoints_need_the_read_scope(client, incident, commander):
    headers = auth(commander, "ingest")
    for path in (BASE, f"{BASE}/{incident.reference}", f"{BASE}/{incident.reference}/timeline", f"{BASE}/{incident.reference}/tasks"):
        response = client.get(path, **headers)
        assert response.status_code == 403 and "'read' scope" in response.json()["detail"], path


# --- The list ---------------------------------------------------------------------------------


@pytest.fixture
def assorted(commander, service):
    other = ServiceFactory(name="Search", slug="search")
    return {
        "sev1_open": IncidentFactory(actor=commander, severity=severity("SEV-1"), services=[service]),
        "sev2_ack": IncidentFactory(actor=commander, severity=severity("SEV-2"), services=[other], acknowledged=True),
        "sev3_resolved": IncidentFactory(actor=commander, severity=severity("SEV-3"), services=[service, other], resolved=True),
        "sev4_closed": IncidentFactory(actor=commander, severity=severity("SEV-4"), closed=True),
    }


def refs(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["reference"] for item in response.json()["items"]}


@pytest.mark.django_db
def test_list_filters(client, assorted, commander):
    headers = auth(commander, "read")
    ref = {name: incident.reference for name, incident in assorted.items()}
    assert refs(client.get(BASE, **headers)) == set(ref.values())
    assert refs(client.get(BASE, {"status": "open"}, **headers)) == {ref["sev1_open"], ref["sev2_ack"]}
    assert refs(client.get(BASE, {"status": "resolved,closed"}, **headers)) == {ref["sev3_resolved"], ref["sev4_closed"]}
    assert refs(client.get(f"{BASE}?status=triggered&status=closed", **headers)) == {ref["sev1_open"], ref["sev4_closed"]}
    assert refs(client.get(BASE, {"severity": "SEV-1"}, **headers)) == {ref["sev1_open"]}
    assert refs(client.get(BASE, {"severity": "3,sev-4"}, **headers)) == {ref["sev3_resolved"], ref["sev4_closed"]}
    assert refs(client.get(BASE, {"service": "search"}, **headers)) == {ref["sev2_ack"], ref["sev3_resolved"]}
    assert refs(client.get(BASE, {"service": "search", "status": "open"}, **headers)) == {ref["sev2_ack"]}

    Incident.objects.filter(pk=assorted["sev1_open"].pk).update(declared_at=timezone.now() - dt.timedelta(days=3))
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert ref["sev1_open"] not in refs(client.get(BASE, {"since": since}, **headers))
    assert ref["sev1_open"] in refs(client.get(BASE, {"since": "2000-01-01T00:00:00"}, **headers))


@pytest.mark.django_db
def test_a_severity_is_typed_as_its_name_label_or_rank_in_any_spelling(client, assorted, commander):
    headers = auth(commander, "read")
    ref = {name: incident.reference for name, incident in assorted.items()}
    assert refs(client.get(BASE, {"severity": "critical,sev 2"}, **headers)) == {ref["sev1_open"], ref["sev2_ack"]}
    assert refs(client.get(f"{BASE}?severity=LOW&severity=Sev_3", **headers)) == {ref["sev3_resolved"], ref["sev4_closed"]}
    unknown = client.get(BASE, {"severity": "SEV-1,urgent"}, **headers)
    assert unknown.status_code == 422 and unknown.json()["errors"] == [{
        "field": "severity",
        "message": "Unknown severity 'urgent'; use one of SEV-1 (Critical), SEV-2 (High), SEV-3 (Medium), SEV-4 (Low) or a rank 1–4.",
    }]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params, field",
    [
        ({"status": "sleeping"}, "status"),
        ({"severity": "SEV-9"}, "severity"),
        ({"service": "no-such-service"}, "service"),
        ({"service": "bad slug!"}, "service"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b"2026-01-01|x").decode()}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b"0001-01-01T00:00:00+05:00|1").decode()}, "cursor"),
        ({"since": "0001-01-01T00:00:00+05:00"}, "since"),
        ({"severity": "SEV-1\x00"}, "severity"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"since": "yesterday"}, "since"),
    ],
)
def test_bad_list_parameters_are_422_naming_the_field(client, commander, params, field):
    response = client.get(BASE, params, **auth(commander, "read"))
    assert response.status_code == 422, response.content
    assert any(field in error["field"] for error in response.json()["errors"]), response.json()


@pytest.mark.django_db
def test_cursor_pages_cover_every_incident_once_newest_first(client, commander, service):
    made = [IncidentFactory(actor=commander, services=[service]) for _ in range(7)]
    # Two share a declaration instant: the id breaks the tie.
    same = timezone.now() - dt.timedelta(hours=1)
    Incident.objects.filter(pk__in=[made[2].pk, made[3].pk]).update(declared_at=same)
    headers = auth(commander, "read")
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = client.get(BASE, params, **headers).json()
        seen += [item["reference"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 7
    expected = list(Incident.objects.order_by("-declared_at", "-pk").values_list("number", flat=True))
    assert seen == [f"INC-{n}" for n in expected]
    # A page boundary is stable when newer incidents arrive meanwhile.
    first = client.get(BASE, {"limit": 3}, **headers).json()
    IncidentFactory(actor=commander)
    second = client.get(BASE, {"limit": 3, "cursor": first["next_cursor"]}, **headers).json()
    assert [i["reference"] for i in second["items"]] == seen[3:6]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 30])
def test_the_list_costs_a_fixed_number_of_queries(client, django_assert_max_num_queries, commander, responder, service, size):
    other = ServiceFactory(slug="search")
    for n in range(size):
        incident = IncidentFactory(actor=commander, services=[service, other], commander=commander, acknowledged=n % 2 == 0)
        actions.post_update(incident, "Looking", actor=commander, source=Source.ADMIN)
    for user in (commander, responder):
        headers = auth(user, "read")
        client.get(BASE, **headers)  # the key's first use stamps last_used_at
        # key, 2 × permissions, severities, services, incidents, services, commanders
        with django_assert_max_num_queries(9):
            response = client.get(BASE, {"limit": 200, "status": "open", "severity": "SEV-2", "service": "checkout-api"}, **headers)
        assert len(response.json()["items"]) == size


# --- Declaring --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_declare_makes_an_incident_and_answers_201(client, responder, commander, service):
    # Twenty minutes ago, typed in another zone (answered in UTC).
    detected = (timezone.now() - dt.timedelta(minutes=20)).replace(microsecond=0).astimezone(dt.timezone(dt.timedelta(hours=1)))
    response = call(
        client, "post", BASE, auth(responder),
        {
            "title": "Checkout failing", "severity": "SEV-1", "services": ["checkout-api"], "summary": "5xx on pay",
            "type": "availability", "commander": "ic", "detected_at": detected.isoformat(), "drill": True,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    incident = Incident.objects.get(number=body["number"])
    assert body["reference"] == incident.reference and body["title"] == "Checkout failing"
    assert body["severity"]["name"] == "SEV-1" and body["type"] == "availability" and body["drill"] is True
    assert body["commander"]["username"] == "ic"
    assert dt.datetime.fromisoformat(body["detected_at"].replace("Z", "+00:00")) == detected
    assert incident.timeline.get(kind=TimelineEvent.Kind.DECLARED).source == Source.API
    assert incident.created_by == responder
    assert {p["username"] for p in body["participants"]} == {"ic", "responder"}
    assert len(client.get(f"{BASE}/{incident.reference}/tasks", **auth(responder)).json()["items"]) == len(
        incident_type("availability").checklist
    )


@pytest.mark.django_db
def test_the_api_declare_takes_an_optional_public_flag(client, commander, service):
    # SEV-2 is not public by default (its window is 15 min); the caller may publish at once.
    made = call(client, "post", BASE, auth(commander), {"title": "Slow pay", "severity": "SEV-2", "services": ["checkout-api"], "public_on_status_page": True})
    assert made.status_code == 201 and Incident.objects.get(title="Slow pay").public_on_status_page is True
    default = call(client, "post", BASE, auth(commander), {"title": "Slower pay", "severity": "SEV-2", "services": ["checkout-api"]})
    assert default.status_code == 201 and Incident.objects.get(title="Slower pay").public_on_status_page is False
    refused = call(client, "post", BASE, auth(commander), {"title": "Drill", "severity": "SEV-1", "drill": True, "public_on_status_page": True})
    assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["public_on_status_page"]


@pytest.mark.django_db
def test_a_security_incident_declared_through_the_api_starts_restricted(client, commander):
    response = call(client, "post", BASE, auth(commander), {"title": "Leaked key", "severity": "2", "type": "security", "restricted": False})
    assert response.status_code == 201 and response.json()["restricted"] is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change, field",
    [
        ({"severity": "SEV-9"}, "severity"),
        ({"services": ["nope"]}, "services"),
        ({"type": "nope"}, "type"),
        ({"commander": "nobody-here"}, "commander"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "nul \x00 byte"}, "title"),
        ({"severity": None}, "severity"),
        ({"detected_at": "soon"}, "detected_at"),
    ],
)
def test_declare_with_bad_input_is_422_naming_the_field(client, commander, service, change, field):
    body = {"title": "Down", "severity": "SEV-2", **change}
    response = call(client, "post", BASE, auth(commander), body)
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_declare_with_a_refused_value_says_why(client, commander):
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    response = call(client, "post", BASE, auth(commander), {"title": "Down", "severity": "SEV-2", "detected_at": future})
    assert response.status_code == 422 and "future" in response.json()["detail"]
    assert response.json()["errors"] == [{"field": "detected_at", "message": "The detection time is in the future."}]
    blank = call(client, "post", BASE, auth(commander), {"title": "   ", "severity": "SEV-2"})
    assert blank.status_code == 400 and "title" in blank.json()["detail"].lower()


@pytest.mark.django_db
def test_declare_needs_the_write_scope_and_the_declare_permission(client, commander, viewer):
    body = {"title": "Down", "severity": "SEV-2"}
    read_only = call(client, "post", BASE, auth(commander, "read"), body)
    assert read_only.status_code == 403 and "'write' scope" in read_only.json()["detail"]
    viewers_key = call(client, "post", BASE, auth(viewer), body)
    assert viewers_key.status_code == 403 and "incidents.add_incident" in viewers_key.json()["detail"]
    assert not Incident.objects.exists()


# --- Working an incident ----------------------------------------------------------------------


@pytest.mark.django_db
def test_acknowledge_then_again_is_409(client, incident, responder):
    headers = auth(responder)
    response = call(client, "post", f"{BASE}/{incident.reference}/acknowledge", headers)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "investigating" and response.json()["acknowledged_at"]
    event = incident.timeline.get(kind=TimelineEvent.Kind.ACKNOWLEDGED)
    assert event.actor == responder and event.source == Source.API
    again = call(client, "post", f"{BASE}/{incident.reference}/acknowledge", headers)
    assert again.status_code == 409 and "already acknowledged" in again.json()["detail"]


@pytest.mark.django_db
def test_a_read_only_key_cannot_write(client, incident, commander):
    headers = auth(commander, "read")
    for path, body in (("acknowledge", None), ("resolve", {}), ("updates", {"text": "x"}), ("tasks", {"title": "x"})):
        response = call(client, "post", f"{BASE}/{incident.reference}/{path}", headers, body if body is not None else {})
        assert response.status_code == 403 and "'write' scope" in response.json()["detail"], path
    assert call(client, "patch", f"{BASE}/{incident.reference}", headers, {"title": "x"}).status_code == 403
    incident.refresh_from_db()
    assert incident.status == Status.TRIGGERED


@pytest.mark.django_db
def test_a_viewer_owned_write_key_can_neither_respond_nor_command(client, incident, viewer):
    headers = auth(viewer)
    for path, body in (
        ("acknowledge", None), ("resolve", {}), ("reopen", {"reason": "x"}), ("updates", {"text": "x"}),
        ("roles", {"role": "scribe", "username": "viewer"}), ("tasks", {"title": "x"}),
    ):
        response = call(client, "post", f"{BASE}/{incident.reference}/{path}", headers, body or {})
        assert response.status_code == 403, (path, response.content)
        assert f"{viewer} may not" in response.json()["detail"]
    for change in ({"title": "x"}, {"severity": "SEV-1"}, {"status": "investigating"}):
        assert call(client, "patch", f"{BASE}/{incident.reference}", headers, change).status_code == 403
    assert call(client, "get", f"{BASE}/{incident.reference}", headers).status_code == 200


@pytest.mark.django_db
def test_a_responder_may_respond_but_not_resolve(client, incident, responder):
    headers = auth(responder)
    response = call(client, "post", f"{BASE}/{incident.reference}/resolve", headers, {"summary": "done"})
    assert response.status_code == 403 and "incidents.command_incident" in response.json()["detail"]
    update = call(client, "post", f"{BASE}/{incident.reference}/updates", headers, {"text": "Investigating", "status": "identified"})
    assert update.status_code == 200 and update.json()["status"] == "identified"
    assert call(client, "patch", f"{BASE}/{incident.reference}", headers, {"severity": "SEV-1"}).status_code == 403


@pytest.mark.django_db
def test_resolve_and_reopen(client, incident, ic):
    path = f"{BASE}/{incident.reference}"
    response = call(client, "post", f"{path}/resolve", ic, {"summary": "Rolled back", "mitigation": "rollback"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "resolved" and body["resolved_at"] and body["mitigation"] == "rollback"
    assert body["resolution_summary"] == "Rolled back"
    assert call(client, "post", f"{path}/resolve", ic, {}).status_code == 409
    assert call(client, "post", f"{path}/reopen", ic, {"reason": ""}).status_code == 422
    assert call(client, "post", f"{path}/reopen", ic, {"reason": "   "}).status_code == 400
    reopened = call(client, "post", f"{path}/reopen", ic, {"reason": "Errors are back"})
    assert reopened.status_code == 200 and reopened.json()["status"] == "investigating"
    assert reopened.json()["resolved_at"] is None
    again = call(client, "post", f"{path}/reopen", ic, {"reason": "x"})
    assert again.status_code == 409 and again.json()["detail"] == f"{incident.reference} is already investigating."
    bad = call(client, "post", f"{path}/resolve", ic, {"mitigation": "prayer"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "mitigation"


@pytest.mark.django_db
def test_patch_title_summary_severity_status(client, incident, ic, commander):
    path = f"{BASE}/{incident.reference}"
    response = call(client, "patch", path, ic, {"title": "Checkout down in EU", "summary": "Payments fail", "severity": "SEV-1"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "Checkout down in EU" and body["summary"] == "Payments fail" and body["severity"]["name"] == "SEV-1"
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert TimelineEvent.Kind.DETAILS_CHANGED in kinds and TimelineEvent.Kind.SEVERITY_CHANGED in kinds
    # The same values again change nothing.
    before = incident.timeline.count()
    assert call(client, "patch", path, ic, {"title": "Checkout down in EU", "severity": "1"}).status_code == 200
    assert incident.timeline.count() == before
    # Status: acknowledge by moving on, then resolve through status.
    assert call(client, "patch", path, ic, {"status": "identified"}).json()["status"] == "identified"
    # SEV-1 needs a resolution summary, which a PATCH cannot carry: the answer says where to send it.
    refused = call(client, "patch", path, ic, {"status": "resolved"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "status"
    assert f"POST /api/v1/incidents/{incident.reference}/resolve" in refused.json()["errors"][0]["message"]
    resolved = call(client, "post", f"{path}/resolve", ic, {"summary": "Failed over to eu-west-2"})
    assert resolved.json()["status"] == "resolved"
    refused = call(client, "patch", path, ic, {"status": "monitoring"})
    assert refused.status_code == 409 and refused.json()["detail"] == f"{incident.reference} is resolved; reopen it first."
    assert call(client, "patch", path, ic, {"status": "triggered"}).status_code == 409
    assert call(client, "patch", path, ic, {"status": "asleep"}).status_code == 422
    assert call(client, "patch", path, ic, {"severity": "SEV-77"}).status_code == 422
    assert call(client, "patch", path, ic, {"title": None}).status_code == 422


@pytest.mark.django_db
def test_patch_is_all_or_nothing(client, incident, ic):
    path = f"{BASE}/{incident.reference}"
    response = call(client, "patch", path, ic, {"title": "New title", "status": "closed"})
    assert response.status_code == 409
    incident.refresh_from_db()
    assert incident.title != "New title"
    assert not incident.timeline.filter(kind=TimelineEvent.Kind.DETAILS_CHANGED).exists()


@pytest.mark.django_db
def test_patch_status_needs_command_rights_only_for_resolving(client, incident, responder):
    headers = auth(responder)
    path = f"{BASE}/{incident.reference}"
    assert call(client, "patch", path, headers, {"status": "investigating"}).status_code == 200
    assert call(client, "patch", path, headers, {"status": "monitoring"}).status_code == 200
    refused = call(client, "patch", path, headers, {"status": "resolved"})
    assert refused.status_code == 403 and "incidents.command_incident" in refused.json()["detail"]
    assert call(client, "patch", path, headers, {"title": "mine now"}).status_code == 403


@pytest.mark.django_db
def test_a_closed_incident_cannot_be_edited(client, commander, ic):
    closed = IncidentFactory(actor=commander, closed=True)
    response = call(client, "patch", f"{BASE}/{closed.reference}", ic, {"title": "Renamed"})
    assert response.status_code == 409 and "closed" in response.json()["detail"]


@pytest.mark.django_db
def test_assign_role_hands_commander_over(client, incident, ic, responder):
    response = call(client, "post", f"{BASE}/{incident.reference}/roles", ic, {"role": "commander", "username": "responder"})
    assert response.status_code == 200, response.content
    assert response.json()["commander"]["username"] == "responder"
    again = call(client, "post", f"{BASE}/{incident.reference}/roles", ic, {"role": "commander", "username": "responder"})
    assert again.status_code == 400 and "already" in again.json()["detail"]
    unknown = call(client, "post", f"{BASE}/{incident.reference}/roles", ic, {"role": "scribe", "username": "ghost"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "username"
    bad_role = call(client, "post", f"{BASE}/{incident.reference}/roles", ic, {"role": "king", "username": "responder"})
    assert bad_role.status_code == 422 and bad_role.json()["errors"][0]["field"] == "role"


@pytest.mark.django_db
def test_the_incidents_own_commander_may_command_it_without_the_group_permission(client, commander, responder):
    incident = IncidentFactory(actor=commander, commander=responder)
    response = call(client, "post", f"{BASE}/{incident.reference}/resolve", auth(responder), {"summary": "Rolled back"})
    assert response.status_code == 200 and response.json()["status"] == "resolved"


@pytest.mark.django_db
def test_post_internal_and_external_updates(client, incident, ic):
    path = f"{BASE}/{incident.reference}/updates"
    assert call(client, "post", path, ic, {"text": "Looking into it"}).status_code == 200
    external = call(client, "post", path, ic, {"text": "We are on it", "visibility": "external", "status": "identified"})
    assert external.status_code == 200 and external.json()["status"] == "identified"
    updates = incident.timeline.filter(kind=TimelineEvent.Kind.STATUS_UPDATE).order_by("occurred_at", "pk")
    assert [(u.message, u.visibility, u.source) for u in updates] == [
        ("Looking into it", "internal", "api"), ("We are on it", "external", "api"),
    ]
    assert call(client, "post", path, ic, {"text": "x", "visibility": "public"}).status_code == 422
    assert call(client, "post", path, ic, {"text": "x", "status": "resolved"}).status_code == 422
    assert call(client, "post", path, ic, {"text": ""}).status_code == 422


@pytest.mark.django_db
def test_an_update_acknowledges_a_triggered_incident_only_when_it_moves_it(client, incident, ic):
    path = f"{BASE}/{incident.reference}/updates"
    alone = call(client, "post", path, ic, {"text": "Looking into it"}).json()
    assert (alone["status"], alone["acknowledged_at"]) == ("triggered", None)
    moved = call(client, "post", path, ic, {"text": "Found it", "status": "identified"}).json()
    assert moved["status"] == "identified" and moved["acknowledged_at"] is not None
    assert incident.timeline.filter(kind=TimelineEvent.Kind.ACKNOWLEDGED, source="api").count() == 1
    described = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["UpdateIn"]["properties"]["status"]
    assert "On a triggered incident this also acknowledges it" in described["description"]


# --- Timeline and tasks -----------------------------------------------------------------------


@pytest.mark.django_db
def test_timeline_newest_first_in_pages(client, incident, commander):
    for n in range(6):
        actions.add_note(incident, f"note {n}", actor=commander, source=Source.ADMIN)
    headers = auth(commander, "read")
    path = f"{BASE}/{incident.reference}/timeline"
    everything = client.get(path, {"limit": 200}, **headers).json()
    assert everything["next_cursor"] is None
    expected = list(incident.timeline.order_by("-occurred_at", "-pk").values_list("pk", flat=True))
    assert [e["id"] for e in everything["items"]] == expected
    first = everything["items"][0]
    assert first["message"] == "note 5" and first["actor"]["username"] == "ic" and first["kind"] == "note"
    seen, cursor = [], None
    while True:
        body = client.get(path, {"limit": 4, **({"cursor": cursor} if cursor else {})}, **headers).json()
        seen += [e["id"] for e in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == expected
    assert client.get(path, {"cursor": "%%%"}, **headers).status_code == 422


@pytest.mark.django_db
@pytest.mark.parametrize("notes", [3, 30])
def test_the_timeline_costs_a_fixed_number_of_queries(client, django_assert_max_num_queries, incident, commander, notes):
    for n in range(notes):
        actions.add_note(incident, f"note {n}", actor=UserFactory(), source=Source.ADMIN)
    headers = auth(commander, "read")
    client.get(BASE, **headers)
    # key, 2 × permissions, incident, services, commanders, participants, events
    with django_assert_max_num_queries(8):
        response = client.get(f"{BASE}/{incident.reference}/timeline", {"limit": 200}, **headers)
    assert len(response.json()["items"]) >= notes


@pytest.mark.django_db
def test_tasks_list_add_and_tick(client, incident, responder):
    headers = auth(responder)
    path = f"{BASE}/{incident.reference}/tasks"
    assert client.get(path, **headers).json() == {"items": []}
    added = call(client, "post", path, headers, {"title": "Roll back the deploy"})
    assert added.status_code == 201, added.content
    task = added.json()
    assert task["title"] == "Roll back the deploy" and task["done"] is False and task["position"] == 1
    done = call(client, "patch", f"{path}/{task['id']}", headers, {"done": True})
    assert done.status_code == 200 and done.json()["done"] is True and done.json()["done_by"]["username"] == "responder"
    assert call(client, "patch", f"{path}/{task['id']}", headers, {"done": True}).json()["done"] is True  # idempotent
    assert [t["done"] for t in client.get(path, **headers).json()["items"]] == [True]
    assert incident.timeline.filter(kind=TimelineEvent.Kind.TASK_DONE).count() == 1
    assert call(client, "patch", f"{path}/{task['id']}", headers, {"done": False}).json()["done"] is False
    assert call(client, "patch", f"{path}/999999", headers, {"done": True}).status_code == 404
    assert call(client, "patch", f"{path}/99999999999999999999", headers, {"done": True}).status_code in (404, 422)
    assert call(client, "post", path, headers, {"title": ""}).status_code == 422


@pytest.mark.django_db
def test_a_task_of_another_incident_is_404(client, incident, commander, ic):
    other = IncidentFactory(actor=commander)
    task = IncidentTask.objects.create(incident=other, position=1, title="theirs")
    response = call(client, "patch", f"{BASE}/{incident.reference}/tasks/{task.pk}", ic, {"done": True})
    assert response.status_code == 404 and response.json()["detail"] == f"No task {task.pk} on {incident.reference}."


@pytest.mark.django_db
def test_tasks_on_a_closed_incident_are_409(client, commander, ic):
    closed = IncidentFactory(actor=commander, closed=True)
    response = call(client, "post", f"{BASE}/{closed.reference}/tasks", ic, {"title": "late"})
    assert response.status_code == 409


@pytest.mark.django_db
def test_a_signed_in_staff_session_may_read(client, incident, commander):
    client.force_login(commander)
    assert client.get(f"{BASE}/{incident.reference}").status_code == 200


@pytest.mark.django_db
def test_the_openapi_schema_documents_every_route_and_its_errors(client):
    schema = client.get("/api/v1/openapi.json").json()
    ops = {(path, method): op for path, methods in schema["paths"].items() for method, op in methods.items()}
    routes = [
        ("", "get"), ("", "post"), ("/{ref}", "get"), ("/{ref}", "patch"), ("/{ref}/acknowledge", "post"),
        ("/{ref}/resolve", "post"), ("/{ref}/reopen", "post"), ("/{ref}/roles", "post"), ("/{ref}/updates", "post"),
        ("/{ref}/timeline", "get"), ("/{ref}/tasks", "get"), ("/{ref}/tasks", "post"), ("/{ref}/tasks/{task_id}", "patch"),
    ]
    mine = {(BASE + path, method): ops[(BASE + path, method)] for path, method in routes}
    for path in ("/api/v1/services", "/api/v1/services/{slug}", "/api/v1/services/{slug}/oncall"):
        mine[(path, "get")] = ops[(path, "get")]
    for (path, method), op in mine.items():
        codes = set(op["responses"])
        assert {"401", "403", "404", "422"} <= codes, (path, method)
        if method in ("post", "patch"):
            assert {"400", "409"} <= codes, (path, method)
