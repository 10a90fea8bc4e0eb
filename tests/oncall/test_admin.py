"""The on-call admin as managers, responders and viewers use it: the schedule page (who is on call,
14 days of shifts, gap warnings, "cover this shift" in two clicks), escalation policies with their
matrix, calendar feeds and the permissions the groups get."""

import datetime as dt
import re
from urllib.parse import urlparse

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from oncall.forms import DelayField, LayerForm, delay_text
from oncall.models import CalendarFeed, EscalationDelay, EscalationLevel, EscalationPolicy, Layer, Override
from oncall.schedules import on_call_at
from tests.oncall.factories import (
    EscalationDelayFactory,
    EscalationLevelFactory,
    EscalationPolicyFactory,
    LayerFactory,
    OverrideFactory,
    ScheduleFactory,
    UserFactory,
)
from tests.oncall.fixtures import NOW, UTC, alice, bob, carol, frozen_clock, gappy, primary  # noqa: F401
from tests.pages import text_of

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:oncall_schedule_changelist")


def page_url(schedule) -> str:
    return reverse("admin:oncall_schedule_change", args=[schedule.pk])


# --- The schedule page ------------------------------------------------------------------------------


def test_schedule_page_shows_who_is_on_call_now_and_14_days_in_the_viewers_zone(client, carol, primary, alice):
    OverrideFactory(
        schedule=primary, user=carol, start=dt.datetime(2026, 5, 8, 18, tzinfo=UTC), end=dt.datetime(2026, 5, 8, 22, tzinfo=UTC),
        reason="Alice's birthday",
    )
    client.force_login(carol)
    response = client.get(page_url(primary))
    assert response.status_code == 200
    text = text_of(response)
    # 13:00 in London on a Wednesday: the business-hours layer (Bob) until 17:00 BST = 12:00 in New York.
    assert "On call now: Bob Okafor (Business hours) until Wed 06 May 12:00" in text
    assert "Times in your zone, America/New_York" in text
    rows = response.context["rows"]
    assert rows[0].times == "now – 12:00" and rows[0].shift.user.username == "bob"
    assert rows[1].times == "12:00 – Thu 07 May 04:00" and rows[1].shift.user == alice  # 17:00–09:00 London
    assert rows[-1].end == NOW + dt.timedelta(days=14)
    # The override sits in the table, marked, with who made it.
    override_row = next(row for row in rows if row.shift and row.shift.override)
    assert override_row.times == "14:00 – 18:00" and override_row.day == "Fri 08 May"
    assert "override Alice's birthday" in text
    assert "Nobody is on call" not in text


def test_each_row_covers_its_window_in_two_clicks(client, carol, primary):
    client.force_login(carol)
    rows = client.get(page_url(primary)).context["rows"]
    row = rows[1]  # Alice, Wednesday evening to Thursday morning
    # Click 1: the row's button opens the override form, filled in for that window with me on call.
    cover = client.get(row.cover_url)
    assert cover.status_code == 200
    form = cover.context["adminform"].form
    assert form.initial["user"] == carol.pk and str(form.initial["schedule"]) == str(primary.pk)
    assert (form.initial["start"], form.initial["end"]) == (row.start, row.end)
    assert 'value="12:00:00"' in cover.content.decode()  # shown in my zone
    # Click 2: save, exactly as the browser would post the pre-filled form.
    data = {
        "schedule": primary.pk, "user": carol.pk, "reason": "",
        "start_0": "2026-05-06", "start_1": "12:00:00", "end_0": "2026-05-07", "end_1": "04:00:00", "_save": "Save",
    }
    response = client.post(reverse("admin:oncall_override_add"), data, follow=True)
    assert response.redirect_chain[-1][0] == page_url(primary)
    override = Override.objects.get()
    assert (override.user, override.created_by, override.start, override.end) == (carol, carol, row.start, row.end)
    assert on_call_at(primary, dt.datetime(2026, 5, 6, 20, tzinfo=UTC)) == [carol]
    assert "Carol Diaz is on call for Primary, Wed 06 May 12:00 – Thu 07 May 04:00 (16 h)." in text_of(response)
    marked = [row for row in response.context["rows"] if row.shift and row.shift.override]
    assert [(r.start, r.end) for r in marked] == [(row.start, row.end)]


def test_override_form_refuses_a_window_that_ends_before_it_starts(client, carol, primary):
    client.force_login(carol)
    data = {
        "schedule": primary.pk, "user": carol.pk,
        "start_0": "2026-05-06", "start_1": "12:00", "end_0": "2026-05-06", "end_1": "11:00", "_save": "Save",
    }
    response = client.post(reverse("admin:oncall_override_add"), data)
    assert response.status_code == 200
    assert "The override must end after it starts." in text_of(response)
    assert not Override.objects.exists()


def test_override_form_refuses_an_override_longer_than_the_setting(client, carol, primary, settings):
    client.force_login(carol)
    data = {
        "schedule": primary.pk, "user": carol.pk,
        "start_0": "2026-05-06", "start_1": "12:00", "end_0": "2036-05-06", "end_1": "12:00", "_save": "Save",
    }
    response = client.post(reverse("admin:oncall_override_add"), data)
    assert "An override lasts at most 90 days; split a longer absence into several overrides." in text_of(response)
    settings.VIGIL_MAX_OVERRIDE_DAYS = 7
    data.update(end_0="2026-05-14")
    assert "An override lasts at most 7 days" in text_of(client.post(reverse("admin:oncall_override_add"), data))
    data.update(end_0="2026-05-13")
    assert client.post(reverse("admin:oncall_override_add"), data).status_code == 302
    assert Override.objects.get().end - Override.objects.get().start == dt.timedelta(days=7)


def test_a_confirmation_across_new_year_shows_the_years(client, carol, primary):
    client.force_login(carol)
    data = {
        "schedule": primary.pk, "user": carol.pk, "reason": "",
        "start_0": "2026-12-30", "start_1": "12:00", "end_0": "2027-01-02", "end_1": "12:00", "_save": "Save",
    }
    response = client.post(reverse("admin:oncall_override_add"), data, follow=True)
    assert "Carol Diaz is on call for Primary, Wed 30 Dec 2026 12:00 – Sat 02 Jan 2027 12:00 (3 d)." in text_of(response)


def test_without_add_override_there_is_no_cover_button(client, primary):
    viewer = UserFactory(username="dave", viewer=True)
    client.force_login(viewer)
    response = client.get(page_url(primary))
    assert response.status_code == 200
    assert all(row.cover_url is None for row in response.context["rows"])
    assert "Cover this shift" not in response.content.decode() and "Add override" not in response.content.decode()
    assert client.get(reverse("admin:oncall_override_add")).status_code == 403


def test_gaps_are_warned_about_on_the_list_and_the_page(client, carol, primary, gappy):
    client.force_login(carol)
    listing = client.get(LIST_URL)
    by_name = {s.name: s for s in listing.context["cl"].result_list}
    assert by_name["Primary"].outlook.gaps == []
    # It is 08:00 on a Wednesday in New York: an hour before business hours, then nine nights
    # and the weekends to the end of the window.
    assert len(by_name["Database"].outlook.gaps) == 11
    text = text_of(listing)
    assert "covered" in text
    assert "⚠ 11 gaps, first now – Wed 06 May 09:00 (1 h)" in text

    page = client.get(page_url(gappy))
    text = text_of(page)
    assert "Nobody is on call now – Wed 06 May 09:00 (1 h); Wed 06 May 17:00 – Thu 07 May 09:00 (16 h);" in text
    assert "11 gaps in the next 14 days" in text
    gap_rows = [row for row in page.context["rows"] if row.shift is None]
    assert len(gap_rows) == 11 and all(row.cover_url for row in gap_rows)
    assert "Cover this gap" in page.content.decode()


def test_schedule_pages_cost_a_bounded_number_of_queries(client, carol, django_assert_max_num_queries, alice, bob):
    def make_schedules(count):
        for _ in range(count):
            schedule = ScheduleFactory()
            LayerFactory(schedule=schedule, members=[alice, bob])
            LayerFactory(schedule=schedule, business_hours=True, members=[bob, alice, carol])
            OverrideFactory(schedule=schedule, user=carol, start=NOW, end=NOW + dt.timedelta(hours=2))
        return schedule

    client.force_login(carol)
    make_schedules(2)
    with django_assert_max_num_queries(12) as few:
        client.get(LIST_URL)
    last = make_schedules(20)
    with django_assert_max_num_queries(12) as many:
        client.get(LIST_URL)
    assert len(many) == len(few)  # not one query more per schedule

    with django_assert_max_num_queries(25):
        assert client.get(page_url(last)).status_code == 200


def test_my_shifts_lists_mine_across_schedules(client, alice, primary, gappy):
    client.force_login(alice)
    response = client.get(reverse("admin:oncall_schedule_mine"))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert {row.shift.schedule.name for row in rows} == {"Primary", "Database"}
    assert all(row.shift.user == alice for row in rows)
    assert [row.start for row in rows] == sorted(row.start for row in rows)


# --- Layers ------------------------------------------------------------------------------------------


def test_layer_form_reads_weekday_checkboxes_and_explains_mistakes(primary):
    data = {
        "schedule": primary.pk, "name": "Nights", "priority": 9, "rotation": "hours", "rotation_hours": "",
        "start_date": "2026-05-04", "handoff_time": "09:00", "restriction_days": ["1", "5", "3"],
        "restriction_start": "22:00", "restriction_end": "",
    }
    form = LayerForm(data)
    assert not form.is_valid()
    assert form.errors["rotation_hours"] == ["Say how many hours each shift lasts."]
    assert form.errors["restriction_end"] == ["Give both times of the window, or neither."]
    form = LayerForm({**data, "rotation_hours": "12", "restriction_end": "06:00"})
    assert form.is_valid(), form.errors
    layer = form.save()
    assert layer.restriction_days == [1, 3, 5] and layer.restriction_end == dt.time(6, 0)


def test_saving_a_layer_page_goes_back_to_its_schedule(client, carol, primary):
    layer = primary.layers.get(name="24/7")
    client.force_login(carol)
    page = client.get(reverse("admin:oncall_layer_change", args=[layer.pk]))
    assert page.status_code == 200 and "Alice Chen" in page.content.decode()
    data = {
        "schedule": primary.pk, "name": "24/7", "priority": 1, "rotation": "daily", "rotation_hours": "",
        "start_date": "2026-05-04", "handoff_time": "08:00", "restriction_start": "", "restriction_end": "",
        "members-TOTAL_FORMS": 2, "members-INITIAL_FORMS": 2, "members-MIN_NUM_FORMS": 0, "members-MAX_NUM_FORMS": 1000,
    }
    for i, member in enumerate(layer.members.order_by("position")):
        data.update({f"members-{i}-id": member.pk, f"members-{i}-layer": layer.pk, f"members-{i}-user": member.user_id,
                     f"members-{i}-position": 2 - i})  # swap the order
    response = client.post(reverse("admin:oncall_layer_change", args=[layer.pk]), data)
    assert response.status_code == 302 and response["Location"] == page_url(primary)
    layer.refresh_from_db()
    assert layer.rotation == Layer.Rotation.DAILY and layer.handoff_time == dt.time(8, 0)
    assert [m.user.username for m in layer.members.order_by("position")] == ["bob", "alice"]


# --- Escalation policies ---------------------------------------------------------------------------


@pytest.fixture
def policy(gappy, primary, carol):
    policy = EscalationPolicyFactory(name="Payments")
    on_call = EscalationLevelFactory(policy=policy, position=1, name="On-call engineer", schedules=[primary, gappy])
    lead = EscalationLevelFactory(
        policy=policy, position=2, name="Team lead", users=[carol], lasts=EscalationLevel.Lasts.UNTIL_RESOLVED
    )
    EscalationDelayFactory(level=on_call, severity_rank=1, delay=dt.timedelta(0))
    EscalationDelayFactory(level=on_call, severity_rank=3, delay=dt.timedelta(0), business_hours=True)
    EscalationDelayFactory(level=lead, severity_rank=1, delay=dt.timedelta(minutes=15))
    EscalationDelayFactory(level=lead, severity_rank=2, delay=dt.timedelta(days=1), business_hours=True)
    return policy


def test_policy_page_shows_the_matrix_and_gap_warnings(client, carol, policy):
    client.force_login(carol)
    response = client.get(reverse("admin:oncall_escalationpolicy_change", args=[policy.pk]))
    assert response.status_code == 200
    assert response.context["ranks"] == [1, 2, 3, 4]
    assert [row["cells"] for row in response.context["matrix"]] == [
        ["at once", "—", "at once (business hours)", "—"],
        ["15 min", "1 d (business hours)", "—", "—"],
    ]
    assert [row["lasts"] for row in response.context["matrix"]] == ["Page until acknowledged", "Inform until resolved"]
    text = text_of(response)
    assert "1. On-call engineer on call: Database, on call: Primary Page until acknowledged at once" in text
    assert "2. Team lead Carol Diaz Inform until resolved 15 min" in text
    assert (
        "Level 1 (On-call engineer) pages “Database”, which has nobody on call now – Wed 06 May 09:00 (1 h); "
        "Wed 06 May 17:00 – Thu 07 May 09:00 (16 h); Thu 07 May 17:00 – Fri 08 May 09:00 (16 h) and 8 more." in text
    )
    assert "“Primary”, which" not in text


def test_policy_list_warns_only_about_policies_with_gaps(client, carol, policy, primary):
    covered = EscalationPolicyFactory(name="Covered")
    EscalationLevelFactory(policy=covered, position=1, schedules=[primary])
    client.force_login(carol)
    response = client.get(reverse("admin:oncall_escalationpolicy_changelist"))
    warnings = {p.name: p.warnings for p in response.context["cl"].result_list}
    assert len(warnings["Payments"]) == 1 and "Database" in warnings["Payments"][0]
    assert warnings["Covered"] == []


def test_level_page_edits_delays_as_an_operator_types_them(client, carol, policy):
    level = policy.levels.get(position=2)
    client.force_login(carol)
    page = client.get(reverse("admin:oncall_escalationlevel_change", args=[level.pk]))
    assert 'value="15 min"' in page.content.decode() and 'value="1 d"' in page.content.decode()
    delays = list(level.delays.order_by("severity_rank"))
    data = {
        "policy": policy.pk, "position": 2, "name": "Team lead", "users": [carol.pk], "lasts": "until_acknowledged",
        "delays-TOTAL_FORMS": 3, "delays-INITIAL_FORMS": 2, "delays-MIN_NUM_FORMS": 0, "delays-MAX_NUM_FORMS": 1000,
        "delays-0-id": delays[0].pk, "delays-0-level": level.pk, "delays-0-severity_rank": 1, "delays-0-delay": "at once",
        "delays-1-id": delays[1].pk, "delays-1-level": level.pk, "delays-1-severity_rank": 2, "delays-1-delay": "1 d",
        "delays-1-business_hours": "on",
        "delays-2-level": level.pk, "delays-2-severity_rank": 3, "delays-2-delay": "4 h",
    }
    response = client.post(reverse("admin:oncall_escalationlevel_change", args=[level.pk]), data)
    assert response.status_code == 302, text_of(response)
    level.refresh_from_db()
    assert level.lasts == EscalationLevel.Lasts.UNTIL_ACKNOWLEDGED
    cells = {d.severity_rank: (d.delay, d.business_hours) for d in EscalationDelay.objects.filter(level=level)}
    assert cells == {1: (dt.timedelta(0), False), 2: (dt.timedelta(days=1), True), 3: (dt.timedelta(hours=4), False)}


@pytest.mark.parametrize(
    "typed, delay",
    [("at once", dt.timedelta(0)), ("15 min", dt.timedelta(minutes=15)), ("1 h 30 min", dt.timedelta(minutes=90)),
     ("1 d", dt.timedelta(days=1)), ("4h", dt.timedelta(hours=4)), ("00:15:00", dt.timedelta(minutes=15)),
     ("PT2H", dt.timedelta(hours=2))],
)
def test_delays_read_as_typed(typed, delay):
    assert DelayField().clean(typed) == delay


def test_delay_cells_read_as_the_matrix_says_them():
    assert delay_text(dt.timedelta(0)) == "at once"
    assert delay_text(dt.timedelta(minutes=15)) == "15 min"
    assert delay_text(dt.timedelta(days=1), True) == "1 d (business hours)"


# --- Calendar feeds --------------------------------------------------------------------------------


def test_making_a_feed_shows_its_url_once(client, alice, primary):
    client.force_login(alice)
    response = client.post(reverse("admin:oncall_calendarfeed_add"), {"schedule": ""})
    assert response.status_code == 200
    url = response.context["url"]
    token = re.search(r"/oncall/feeds/([^/]+)\.ics$", url)[1]
    assert url in response.content.decode() and "only time this URL is shown" in text_of(response)
    feed = CalendarFeed.objects.get()
    assert (feed.user, feed.schedule, feed.created_by) == (alice, None, alice)
    # It works without a session, and the list never shows the token again.
    assert client.get(urlparse(url).path).status_code == 200
    listing = client.get(reverse("admin:oncall_calendarfeed_changelist"))
    assert token not in listing.content.decode() and f"{token[:8]}…" in listing.content.decode()


def test_schedule_page_makes_a_schedule_feed_in_one_click(client, carol, primary):
    client.force_login(carol)
    page = client.get(page_url(primary))
    assert 'name="schedule" value="%d"' % primary.pk in page.content.decode()
    response = client.post(reverse("admin:oncall_calendarfeed_add"), {"schedule": primary.pk})
    assert CalendarFeed.objects.get().schedule == primary
    assert "Shifts of schedule Primary" in text_of(response)


def test_people_see_and_revoke_only_their_own_feeds(client, alice, bob):
    client.force_login(alice)
    client.post(reverse("admin:oncall_calendarfeed_add"), {})
    client.force_login(bob)
    client.post(reverse("admin:oncall_calendarfeed_add"), {})
    bobs = CalendarFeed.objects.get(user=bob)
    alices = CalendarFeed.objects.get(user=alice)
    listing = client.get(reverse("admin:oncall_calendarfeed_changelist"))
    assert [feed.pk for feed in listing.context["cl"].result_list] == [bobs.pk]
    response = client.post(
        reverse("admin:oncall_calendarfeed_changelist"),
        {"action": "revoke", "_selected_action": [bobs.pk, alices.pk]},
        follow=True,
    )
    assert "1 feed revoked." in text_of(response)
    bobs.refresh_from_db()
    alices.refresh_from_db()
    assert bobs.revoked_at == NOW and alices.revoked_at is None


# --- Groups ----------------------------------------------------------------------------------------


def test_groups_get_the_on_call_permissions():
    def perms(name):
        return set(Group.objects.get(name=name).permissions.filter(content_type__app_label="oncall").values_list("codename", flat=True))

    models = ["schedule", "layer", "layermember", "override", "escalationpolicy", "escalationlevel", "escalationdelay"]
    for name in ("Viewers", "Responders", "Incident commanders", "Managers"):
        assert {f"view_{m}" for m in models} <= perms(name)
    assert {f"{a}_{m}" for a in ("add", "change", "delete") for m in models} <= perms("Managers")
    assert "add_override" not in perms("Incident commanders")


def test_every_on_call_admin_page_opens_for_a_manager(client, carol, policy, primary):
    OverrideFactory(schedule=primary, user=carol, start=NOW, end=NOW + dt.timedelta(hours=3), reason="Swap")
    level = policy.levels.first()
    client.force_login(carol)
    for name, args in [
        ("oncall_schedule_add", []), ("oncall_override_changelist", []), ("oncall_escalationpolicy_add", []),
        ("oncall_escalationlevel_add", []), ("oncall_escalationlevel_changelist", []), ("oncall_layer_add", []),
        ("oncall_calendarfeed_add", []), ("oncall_team_changelist", []), ("oncall_escalationlevel_change", [level.pk]),
    ]:
        assert client.get(reverse(f"admin:{name}", args=args)).status_code == 200, name
    overrides = text_of(client.get(reverse("admin:oncall_override_changelist") + "?when=ahead"))
    assert "Carol Diaz Primary Wed 06 May 08:00 Wed 06 May 11:00 3 h Swap" in overrides  # in her zone


def test_the_policy_page_edits_how_long_each_level_lasts(client, carol, policy):
    client.force_login(carol)
    page = client.get(reverse("admin:oncall_escalationpolicy_change", args=[policy.pk])).content.decode()
    # The levels inline offers the choice on every row.
    assert page.count('name="levels-0-lasts"') == 1 and "Inform until resolved" in page


@pytest.mark.django_db
def test_the_default_policy_pages_its_on_call_engineer_and_informs_management():
    policy = EscalationPolicy.objects.get(is_default=True)
    assert [(level.name, level.lasts) for level in policy.levels.order_by("position")] == [
        ("On-call engineer", "until_acknowledged"),
        ("Team lead", "until_resolved"),
        ("Engineering manager", "until_resolved"),
        ("Director", "until_resolved"),
    ]
    assert EscalationLevel().lasts == EscalationLevel.Lasts.UNTIL_ACKNOWLEDGED
