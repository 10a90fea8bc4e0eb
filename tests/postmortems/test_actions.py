"""Changes through every surface (admin form, the post-mortem page's inline, admin bulk action,
API): an action item's status ("done" alone carries a completion time; "won't do" is finished but
not completed), and the post-mortem's status moves, which record who made them."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.forms import MultiWidget
from django.urls import reverse

from incidents.errors import IllegalTransition
from incidents.models import Source, TimelineEvent
from postmortems import actions
from postmortems.models import ActionItem, PostMortem
from tests.api.keys import auth
from tests.incidents.factories import IncidentFactory, severity
from tests.postmortems.factories import ActionItemFactory

pytestmark = pytest.mark.django_db

S = ActionItem.Status
# Every status to every other one, and back: open → in progress → done → won't do → open → done
# → open → won't do → in progress → won't do → done → in progress → open.
WALK = [S.IN_PROGRESS, S.DONE, S.WONT_DO, S.OPEN, S.DONE, S.OPEN, S.WONT_DO, S.IN_PROGRESS, S.WONT_DO, S.DONE,
        S.IN_PROGRESS, S.OPEN]


@pytest.fixture
def item(commander):
    incident = IncidentFactory(actor=commander, severity=severity("SEV-2"), commander=commander, resolved=True)
    return ActionItemFactory(postmortem=incident.postmortem)


def form_data(form, prefix_data=None) -> dict:
    """What a browser posts back for `form` as rendered (unchanged values)."""
    data = {}
    for bound in form:
        value = bound.value()
        if isinstance(bound.field.widget, MultiWidget):
            for i, part in enumerate(bound.field.widget.decompress(value)):
                data[f"{bound.html_name}_{i}"] = "" if part is None else str(part)
        elif value is True:
            data[bound.html_name] = "on"
        elif value is not None and value is not False:
            data[bound.html_name] = str(value)
    return data


def change_form_data(response) -> dict:
    data = form_data(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(form_data(formset.management_form))
        for form in formset.forms:
            data.update(form_data(form))
    return data


def assert_stamp(item: ActionItem, status: str, before) -> None:
    item.refresh_from_db()
    assert item.status == status
    if status == S.DONE:
        assert item.completed_at is not None
    else:
        assert item.completed_at is None, f"{status} keeps no completion time"
    assert not (before is not None and status == S.DONE) or item.completed_at == before


def walk(item, change) -> None:
    for status in WALK:
        before = item.completed_at if item.status == S.DONE else None
        change(status)
        assert_stamp(item, status, before)
        # Saving it again in the same status changes nothing (done keeps its first stamp).
        stamped = item.completed_at
        change(status)
        assert_stamp(item, status, stamped)


def test_admin_change_form(client, commander, item):
    client.force_login(commander)
    url = reverse("admin:postmortems_actionitem_change", args=[item.pk])

    def change(status):
        data = change_form_data(client.get(url))
        response = client.post(url, {**data, "status": status})
        assert response.status_code == 302, response.context["adminform"].form.errors

    walk(item, change)


def test_postmortem_page_inline(client, commander, item):
    client.force_login(commander)
    url = reverse("admin:postmortems_postmortem_change", args=[item.postmortem_id])

    def change(status):
        data = change_form_data(client.get(url))
        [key] = [k for k, v in data.items() if k.startswith("action_items-") and k.endswith("-id") and v == str(item.pk)]
        response = client.post(url, {**data, key.replace("-id", "-status"): status})
        assert response.status_code == 302, (response.context["adminform"].form.errors, response.context["errors"])

    walk(item, change)


def test_admin_bulk_actions(client, manager, item):
    client.force_login(manager)
    name = {S.OPEN: "mark_open", S.IN_PROGRESS: "mark_in_progress", S.DONE: "mark_done", S.WONT_DO: "mark_wont_do"}

    def change(status):
        response = client.post(
            reverse("admin:postmortems_actionitem_changelist"), {"action": name[status], "_selected_action": [item.pk]}
        )
        assert response.status_code == 302, (response.context["adminform"].form.errors, response.context["errors"])

    walk(item, change)


def test_api_patch(client, commander, item):
    commander.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_actionitem", "change_actionitem"], content_type__app_label="postmortems")
    )
    headers = auth(commander, "read", "write")

    def change(status):
        response = client.patch(
            f"/api/v1/action-items/{item.pk}", data=json.dumps({"status": status}), content_type="application/json", **headers
        )
        assert response.status_code == 200, response.content
        assert (response.json()["completed_at"] is not None) == (status == S.DONE)

    walk(item, change)


def test_a_bulk_change_of_mixed_items_stamps_only_the_done_ones(item):
    other = ActionItemFactory(postmortem=item.postmortem, status=S.DONE)
    actions.set_action_items_status(ActionItem.objects.filter(pk=other.pk), S.DONE)
    qs = ActionItem.objects.filter(pk__in=[item.pk, other.pk])
    assert actions.set_action_items_status(qs, S.WONT_DO) == 2
    assert [(i.status, i.completed_at) for i in qs] == [(S.WONT_DO, None)] * 2


# --- Who moved the post-mortem ----------------------------------------------------------------


def timeline_notes(incident) -> list[tuple[str, str | None, str]]:
    return [
        (e.message, e.actor.username if e.actor else None, e.source)
        for e in incident.timeline.filter(kind=TimelineEvent.Kind.NOTE).select_related("actor").order_by("pk")
    ]


def test_each_status_move_records_who_and_when(commander, manager):
    postmortem = IncidentFactory(actor=commander, severity=severity("SEV-2"), commander=commander, resolved=True).postmortem
    actions.submit_for_review(postmortem, actor=commander, source=Source.ADMIN)
    actions.return_to_draft(postmortem, actor=manager, source=Source.API)
    actions.submit_for_review(postmortem, actor=commander, source=Source.ADMIN)
    actions.publish(postmortem, actor=manager, source=Source.API)
    postmortem.refresh_from_db()
    assert (postmortem.submitted_by, postmortem.returned_by, postmortem.published_by) == (commander, manager, manager)
    assert postmortem.submitted_at and postmortem.returned_at and postmortem.published_at
    assert timeline_notes(postmortem.incident) == [
        (f"{commander} submitted the post-mortem for review.", "ic", "admin"),
        (f"{manager} sent the post-mortem back to draft.", "manager", "api"),
        (f"{commander} submitted the post-mortem for review.", "ic", "admin"),
        (f"{manager} published the post-mortem.", "manager", "api"),
    ]


def test_a_refused_move_records_nothing(commander):
    postmortem = IncidentFactory(actor=commander, severity=severity("SEV-2"), commander=commander, resolved=True).postmortem
    with pytest.raises(IllegalTransition):
        actions.publish(postmortem, actor=commander, source=Source.ADMIN)
    postmortem.refresh_from_db()
    assert postmortem.published_by is None and timeline_notes(postmortem.incident) == []


def test_publishing_through_the_admin_records_the_person(client, commander):
    postmortem = IncidentFactory(actor=commander, severity=severity("SEV-2"), commander=commander, resolved=True).postmortem
    client.force_login(commander)
    for step in ("submit_for_review", "publish"):
        client.post(reverse("admin:postmortems_postmortem_transition", args=[postmortem.pk, step]))
    postmortem.refresh_from_db()
    assert postmortem.status == PostMortem.Status.PUBLISHED and postmortem.published_by == commander
    assert timeline_notes(postmortem.incident)[-1] == (f"{commander} published the post-mortem.", "ic", "admin")
    page = client.get(reverse("admin:postmortems_postmortem_change", args=[postmortem.pk])).content.decode()
    assert "Published by" in page


def test_publishing_through_the_admin_list_action_records_the_person(client, manager, commander):
    postmortem = IncidentFactory(actor=commander, severity=severity("SEV-2"), commander=commander, resolved=True).postmortem
    actions.submit_for_review(postmortem, actor=commander)
    client.force_login(manager)
    client.post(reverse("admin:postmortems_postmortem_changelist"), {"action": "publish", "_selected_action": [postmortem.pk]})
    postmortem.refresh_from_db()
    assert postmortem.published_by == manager
    assert timeline_notes(postmortem.incident)[-1] == (f"{manager} published the post-mortem.", "manager", "admin")


def test_publishing_through_the_api_records_the_person(client, commander, viewer):
    commander.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_postmortem", "change_postmortem"], content_type__app_label="postmortems")
    )
    postmortem = IncidentFactory(actor=commander, severity=severity("SEV-2"), commander=commander, resolved=True).postmortem
    reference = postmortem.incident.reference
    headers = auth(commander, "read", "write")

    def move(status, **extra):
        return client.post(
            f"/api/v1/postmortems/{reference}/status", data=json.dumps({"status": status}),
            content_type="application/json", **(extra or headers),
        )

    assert move("published").status_code == 409  # a draft is reviewed first
    assert move("in_review").json()["status"] == "in_review"
    assert move("published", **auth(viewer, "read", "write")).status_code in (403, 404)
    body = move("published").json()
    assert body["status"] == "published" and body["published_by"]["username"] == "ic" and body["published_at"]
    postmortem.refresh_from_db()
    assert postmortem.published_by == commander
    assert timeline_notes(postmortem.incident)[-1] == (f"{commander} published the post-mortem.", "ic", "api")
    assert client.get(f"/api/v1/postmortems/{reference}", **headers).json()["published_by"]["username"] == "ic"
