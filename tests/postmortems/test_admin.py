"""The post-mortem admin: pages, status buttons, downloads, permissions, visibility and query bounds."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from postmortems.models import ActionItem, PostMortem
from tests.incidents.factories import IncidentFactory, severity
from tests.postmortems.factories import ActionItemFactory, PostMortemFactory, WhyFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:postmortems_postmortem_changelist")
ITEMS_URL = reverse("admin:postmortems_actionitem_changelist")


def page_url(pm) -> str:
    return reverse("admin:postmortems_postmortem_change", args=[pm.pk])


@pytest.fixture
def postmortem(commander):
    incident = IncidentFactory(actor=commander, severity=severity("SEV-2"), commander=commander, resolved=True)
    WhyFactory(postmortem=incident.postmortem, position=1)
    ActionItemFactory(postmortem=incident.postmortem)
    return incident.postmortem


def make_postmortems(n: int, commander):
    for _ in range(n):
        pm = PostMortemFactory(incident=IncidentFactory(actor=commander, severity=severity("SEV-4")))
        ActionItemFactory.create_batch(2, postmortem=pm)


@pytest.mark.parametrize("size", [3, 30])
def test_list_queries_do_not_grow(as_user, commander, size, django_assert_max_num_queries):
    make_postmortems(size, commander)
    client = as_user(commander)
    with django_assert_max_num_queries(10):
        response = client.get(LIST_URL, {"overdue": "no"})
    assert response.status_code == 200 and len(response.context["cl"].result_list) == size
    with django_assert_max_num_queries(10):
        response = client.get(ITEMS_URL, {"overdue": "week"})
    assert response.status_code == 200
    with django_assert_max_num_queries(12):
        response = client.get(ITEMS_URL)
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 2 * size


def test_page_shows_metrics_buttons_and_inlines(as_user, commander, postmortem):
    response = as_user(commander).get(page_url(postmortem))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Submit for review" in html and "Download Markdown" in html and "Print view" in html
    assert "Time to acknowledge" in html and "Five whys" in html
    assert "Add a smoke test for the payment call" in html


def test_status_buttons_walk_to_published(as_user, commander, postmortem):
    client = as_user(commander)
    url = reverse("admin:postmortems_postmortem_transition", args=[postmortem.pk, "publish"])
    client.post(url)
    postmortem.refresh_from_db()
    assert postmortem.status == PostMortem.Status.DRAFT  # refused: not in review
    client.post(reverse("admin:postmortems_postmortem_transition", args=[postmortem.pk, "submit_for_review"]))
    response = client.post(url, follow=True)
    postmortem.refresh_from_db()
    assert postmortem.status == PostMortem.Status.PUBLISHED and postmortem.published_at
    assert "Publish: 1 post-mortem." in [str(m) for m in response.context["messages"]]


def test_viewers_read_but_cannot_change(as_user, viewer, postmortem):
    client = as_user(viewer)
    assert client.get(page_url(postmortem)).status_code == 200
    response = client.post(reverse("admin:postmortems_postmortem_transition", args=[postmortem.pk, "submit_for_review"]))
    assert response.status_code == 403
    assert client.get(reverse("admin:postmortems_postmortem_add")).status_code == 403


def test_markdown_download_and_print_page(as_user, responder, postmortem):
    client = as_user(responder)
    response = client.get(reverse("admin:postmortems_postmortem_export", args=[postmortem.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/markdown")
    assert response["Content-Disposition"] == f'attachment; filename="postmortem-{postmortem.incident.reference}.md"'
    assert response.content.decode().startswith(f"# Post-Mortem: {postmortem.incident.reference} — ")
    response = client.get(reverse("admin:postmortems_postmortem_print", args=[postmortem.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and "@media print" in html and 'id="header"' not in html


def test_create_on_request(as_user, commander):
    incident = IncidentFactory(actor=commander, severity=severity("SEV-4"), commander=commander, resolved=True)
    client = as_user(commander)
    response = client.post(reverse("admin:postmortems_postmortem_add"), {"incident": incident.pk, "owner": ""})
    postmortem = PostMortem.objects.get(incident=incident)
    assert response.status_code == 302 and response["Location"] == page_url(postmortem)
    assert postmortem.owner == commander and postmortem.timeline_entries.exists()


def test_restricted_postmortems_are_hidden_from_outsiders(as_user, commander, responder):
    secret = IncidentFactory(actor=commander, severity=severity("SEV-1"), commander=commander, is_restricted=True, resolved=True)
    ActionItemFactory(postmortem=secret.postmortem, description="Rotate the leaked key")
    client = as_user(responder)
    assert client.get(page_url(secret.postmortem)).status_code in (302, 404)
    assert client.get(reverse("admin:postmortems_postmortem_export", args=[secret.postmortem.pk])).status_code == 404
    assert secret.postmortem not in client.get(LIST_URL).context["cl"].result_list
    assert "Rotate the leaked key" not in client.get(ITEMS_URL).content.decode()
    # Its commander (a participant) sees it.
    assert as_user(commander).get(page_url(secret.postmortem)).status_code == 200


def test_bulk_actions_mark_items_done(as_user, manager, postmortem):
    item = postmortem.action_items.get()
    response = as_user(manager).post(ITEMS_URL, {"action": "mark_done", "_selected_action": [item.pk]})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == ActionItem.Status.DONE and item.completed_at is not None


def test_overdue_filters(as_user, commander):
    late = PostMortemFactory(incident=IncidentFactory(actor=commander, severity=severity("SEV-4")),
                             draft_due=timezone.localdate() - timedelta(days=1))
    PostMortemFactory(incident=IncidentFactory(actor=commander, severity=severity("SEV-4")))
    overdue_item = ActionItemFactory(postmortem=late, due_date=timezone.localdate() - timedelta(days=3))
    ActionItemFactory(postmortem=late, due_date=timezone.localdate() - timedelta(days=3), status=ActionItem.Status.DONE)
    client = as_user(commander)
    assert list(client.get(LIST_URL, {"overdue": "yes"}).context["cl"].result_list) == [late]
    assert list(client.get(ITEMS_URL, {"overdue": "yes"}).context["cl"].result_list) == [overdue_item]
    assert "3 d overdue" in client.get(ITEMS_URL).content.decode()


def test_the_incident_page_links_its_post_mortem_or_offers_to_create_one(client, manager, commander, service):
    client.force_login(manager)
    required = IncidentFactory(actor=commander, services=[service], severity=severity("SEV-1"), resolved=True)
    page = client.get(f"/admin/incidents/incident/{required.pk}/change/").content.decode()
    assert f"/admin/postmortems/postmortem/{required.postmortem.pk}/change/" in page and "Post-mortem</a> · draft" in page

    optional = IncidentFactory(actor=commander, services=[service], severity=severity("SEV-4"), resolved=True)
    page = client.get(f"/admin/incidents/incident/{optional.pk}/change/").content.decode()
    assert f"/admin/postmortems/postmortem/add/?incident={optional.pk}" in page
    form = client.get(f"/admin/postmortems/postmortem/add/?incident={optional.pk}").context["form"]
    assert str(form["incident"].value()) == str(optional.pk)


def test_the_list_shows_the_date_a_post_mortem_waits_for_once(as_user, commander):
    draft = PostMortemFactory(incident=IncidentFactory(actor=commander, severity=severity("SEV-4")))
    PostMortem.objects.filter(pk=draft.pk).update(draft_due=timezone.localdate() + timedelta(days=3))
    draft.refresh_from_db()
    html = as_user(commander).get(LIST_URL).content.decode()
    shown = f"{draft.draft_due:%a %d %b %Y}"
    assert f"draft due {shown}" in html
    assert html.count(f"{draft.draft_due:%Y-%m-%d}") == 0 and html.count(shown) == 1
    assert "column-draft_due" not in html and "column-publish_due" not in html  # no second column of dates
