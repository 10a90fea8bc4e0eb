"""The post-mortem's copied timeline on its admin page: a compact read-only table (time in the
reader's zone, kind, text) with "hide" and a note per row, saved through
`postmortems.actions.edit_timeline` and shown in the print view and the Markdown export."""

import pytest
from django.urls import reverse

from incidents.errors import InvalidInput
from postmortems import actions
from postmortems.models import PostMortemTimelineEntry
from tests.admin_forms import form_data
from tests.incidents.factories import IncidentFactory, severity
from tests.pages import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def postmortem(commander):
    return IncidentFactory(actor=commander, severity=severity("SEV-2"), commander=commander, resolved=True).postmortem


def page_url(pm) -> str:
    return reverse("admin:postmortems_postmortem_change", args=[pm.pk])


def _row_prefix(response, entry) -> str:
    formset = next(f.formset for f in response.context["inline_admin_formsets"] if f.formset.model is PostMortemTimelineEntry)
    return next(form.prefix for form in formset.forms if form.instance.pk == entry.pk)


def test_the_timeline_is_a_read_only_table_with_hide_and_a_note(as_user, commander, postmortem):
    commander.time_zone = "Asia/Tokyo"
    commander.save()
    entry = postmortem.timeline_entries.exclude(event=None).select_related("event").first()
    response = as_user(commander).get(page_url(postmortem))
    prefix = _row_prefix(response, entry)
    html = response.content.decode()
    # Text, time and kind are shown, not edited; hide and note are the row's only inputs.
    assert f'name="{prefix}-hidden"' in html and f'name="{prefix}-annotation"' in html
    for field in ("text", "occurred_at", "occurred_at_0", "position"):
        assert f'name="{prefix}-{field}"' not in html
    page = text_of(response)
    from django.utils import timezone
    from zoneinfo import ZoneInfo

    assert timezone.localtime(entry.occurred_at, ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M") in page
    assert entry.event.get_kind_display() in page and entry.text in page
    assert "Add another Timeline entry" not in page


def test_hide_and_note_are_kept_and_shape_the_print_view_and_export(as_user, commander, postmortem):
    shown, hidden = postmortem.timeline_entries.filter(hidden=False)[:2]
    client = as_user(commander)
    page = client.get(page_url(postmortem))
    data = form_data(
        page,
        **{f"{_row_prefix(page, shown)}-annotation": "This is where the pager went quiet.",
           f"{_row_prefix(page, hidden)}-hidden": "on"},
    )
    assert client.post(page_url(postmortem), data).status_code == 302
    shown.refresh_from_db()
    hidden.refresh_from_db()
    assert shown.annotation == "This is where the pager went quiet." and hidden.hidden and not shown.hidden

    printed = text_of(client.get(reverse("admin:postmortems_postmortem_print", args=[postmortem.pk])))
    assert "This is where the pager went quiet." in printed and hidden.text not in printed
    markdown = client.get(reverse("admin:postmortems_postmortem_export", args=[postmortem.pk])).content.decode()
    assert "This is where the pager went quiet. |" in markdown and hidden.text not in markdown


def test_a_note_too_long_is_refused_on_the_form_and_nothing_is_saved(as_user, commander, postmortem):
    entry = postmortem.timeline_entries.first()
    client = as_user(commander)
    page = client.get(page_url(postmortem))
    prefix = _row_prefix(page, entry)
    response = client.post(page_url(postmortem), form_data(page, **{f"{prefix}-annotation": "x" * 501, f"{prefix}-hidden": "on"}))
    assert response.status_code == 200
    assert "Ensure this value has at most 500 characters (it has 501)." in text_of(response)
    entry.refresh_from_db()
    assert entry.annotation == "" and entry.hidden is False


def test_edit_timeline_changes_only_this_post_mortems_rows(commander, postmortem):
    other = IncidentFactory(actor=commander, severity=severity("SEV-2"), commander=commander, resolved=True).postmortem
    foreign = other.timeline_entries.first()
    with pytest.raises(InvalidInput, match="not in this post-mortem's timeline"):
        actions.edit_timeline(postmortem, {foreign.pk: {"hidden": True}})
    foreign.refresh_from_db()
    assert foreign.hidden is False
    entry = postmortem.timeline_entries.filter(hidden=False).first()
    assert actions.edit_timeline(postmortem, {entry.pk: {"hidden": True, "annotation": "  noise  "}}) == 1
    assert actions.edit_timeline(postmortem, {entry.pk: {"hidden": True, "annotation": "noise"}}) == 0  # nothing new
    entry.refresh_from_db()
    assert (entry.hidden, entry.annotation) == (True, "noise")


def test_viewers_see_the_table_without_inputs(as_user, viewer, postmortem):
    entry = postmortem.timeline_entries.first()
    response = as_user(viewer).get(page_url(postmortem))
    assert response.status_code == 200 and entry.text in text_of(response)
    assert 'name="timeline_entries-0-annotation"' not in response.content.decode()
