"""Filling in an admin change form as a person would: what the page shows, with some fields changed."""

from __future__ import annotations


def form_data(response, **changes) -> dict:
    """The POST data of an admin add/change page as it was rendered (every field's shown value and
    every inline's management form and rows), with `changes` applied. A value of None drops the field."""
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        _put(data, form.add_prefix(name), form[name].value())
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        for name, field in formset.management_form.fields.items():
            _put(data, formset.management_form.add_prefix(name), formset.management_form[name].value())
        for row in formset.forms:
            for name in row.fields:
                _put(data, row.add_prefix(name), row[name].value())
    for name, value in changes.items():
        data.pop(name, None)
        if value is not None:
            data[name] = value
    return data


def _put(data: dict, key: str, value) -> None:
    if value is None or value is False:
        return
    if value is True:
        data[key] = "on"
    elif isinstance(value, (list, tuple)):
        data[key] = [str(v) for v in value]
    else:
        data[key] = str(value)


def save_form(client, url: str, **changes) -> None:
    """Change the admin page at `url` as a person would (what it shows, with `changes`); it must save."""
    response = client.post(url, form_data(client.get(url), **changes))
    assert response.status_code == 302, response.context["adminform"].form.errors


def english_team(client):
    """As an organisation sets it up in the admin (as `client`'s superuser): a Platform team in
    London that keeps England's bank holidays and owns the default escalation policy."""
    from django.urls import reverse

    from oncall.models import EscalationPolicy, Team
    from tests.oncall.factories import TeamFactory

    team = TeamFactory(name="Platform", slug="platform")
    save_form(client, reverse("admin:oncall_team_change", args=[team.pk]),
              time_zone="Europe/London", holiday_country="GB", holiday_subdivision="ENG")
    policy = EscalationPolicy.objects.get(is_default=True)
    save_form(client, reverse("admin:oncall_escalationpolicy_change", args=[policy.pk]), team=str(team.pk))
    return Team.objects.get(pk=team.pk)
