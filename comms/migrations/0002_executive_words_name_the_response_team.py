"""The executives' shipped words name the response team ("Response Team: …", from the
`response_team` variable). Rows still holding the words shipped before get the new line; rows an
operator edited are left as they are (the template page shows the new default beside them)."""

from django.db import migrations

COMMANDER_LINE = "Incident Commander: {{ commander }}\n"
TEAM_LINE = "Response Team: {{ response_team|default:'being assembled' }}\n"

# The executives' words as shipped before, frozen here: `comms.defaults` moves on.
BODY_BEFORE = (
    "{{ ref }} · {{ severity }} ({{ severity_label }}) · {{ status_label }}\n"
    "{{ title }}\n"
    "\n"
    "Impact: {{ impact }}\n"
    "Customer-facing: {{ customer_facing }}\n"
    "{% if update %}Latest: {{ update }}{% endif %}\n"
    + COMMANDER_LINE
    + "{% if public_status == 'resolved' %}Resolved after {{ duration }}.{% else %}"
    "Next update: {{ next_update|default:'to follow' }}{% endif %}"
)
REOPENED_BEFORE = "{{ ref }} was resolved and has come back{% if reason %}: {{ reason }}{% endif %}.\n\n" + BODY_BEFORE
CELLS_BEFORE = {
    "declared": BODY_BEFORE,
    "status_update": BODY_BEFORE,
    "executive_summary": BODY_BEFORE,
    "resolution": BODY_BEFORE,
    "reopened": REOPENED_BEFORE,
}


def _with_team(body: str) -> str:
    return body.replace(COMMANDER_LINE, COMMANDER_LINE + TEAM_LINE)


def _replace(apps, old_body, new_body) -> None:
    MessageTemplate = apps.get_model("comms", "MessageTemplate")
    for kind, before in CELLS_BEFORE.items():
        MessageTemplate.objects.filter(kind=kind, audience="executives", channel="email", body=old_body(before)).update(
            body=new_body(before)
        )


def name_the_team(apps, schema_editor):
    _replace(apps, lambda before: before, _with_team)


def leave_the_team_out(apps, schema_editor):
    _replace(apps, _with_team, lambda before: before)


class Migration(migrations.Migration):

    dependencies = [
        ("comms", "0001_squashed_0003_restricted_audience_new_message_kinds"),
    ]

    operations = [
        migrations.RunPython(name_the_team, leave_the_team_out),
    ]
