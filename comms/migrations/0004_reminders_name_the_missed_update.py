"""Update-overdue reminders name the update that was missed: the first (its own interval, from
declaration) or a later one (the update interval, and when the last one was), from `update_rule`.

Rows still holding the words shipped before get the new ones; rows an operator edited are left as
they are (the template page shows the new default beside them)."""

from django.db import migrations

# (kind, audience, channel): (subject, body), frozen here: `comms.defaults` moves on.
BEFORE = {('update_overdue', 'responders', 'chat'): ('',
                                            ':alarm_clock: *Status update overdue on <{{ incident_url }}|{{ ref }}>* – '
                                            '{{ severity }} incidents need one every {{ update_interval }}.\n'
                                            '{{ message }}'),
 ('update_overdue', 'responders', 'email'): ('Status update overdue: {{ ref }} – {{ title }}',
                                             'A status update for {{ ref }} ({{ severity }}, {{ status_label }}) is '
                                             'overdue.\n'
                                             '{{ severity }} incidents need an update every {{ update_interval }}; '
                                             'stakeholders are waiting.\n'
                                             '\n'
                                             '{{ message }}\n'
                                             '\n'
                                             'Post an update now: {{ incident_url }}'),
 ('update_overdue', 'responders', 'sms'): ('',
                                           '{{ ref }} {{ severity }}: status update overdue (every {{ update_interval '
                                           '}}). Post one: {{ incident_url }}'),
 ('update_overdue', 'restricted', 'chat'): ('',
                                            ":alarm_clock: {% if is_drill == 'yes' %}[DRILL] {% endif %}*<{{ "
                                            'incident_url }}|{{ ref }}> {{ severity }} (restricted): status update '
                                            'overdue*\n'
                                            '{{ severity }} incidents need an update every {{ update_interval }}.\n'
                                            "*Affected services:* {{ services|default:'not yet known' }}"),
 ('update_overdue', 'restricted', 'email'): ("{% if is_drill == 'yes' %}[DRILL] {% endif %}{{ ref }} {{ severity }} "
                                             '(restricted): status update overdue',
                                             "{% if is_drill == 'yes' %}[DRILL] {% endif %}{{ ref }} {{ severity }} "
                                             '({{ severity_label }}) – restricted incident: status update overdue.\n'
                                             '{{ severity }} incidents need an update every {{ update_interval }}.\n'
                                             "Affected services: {{ services|default:'not yet known' }}\n"
                                             '\n'
                                             'This incident is restricted: the details are in Vigil, for its '
                                             'participants only.\n'
                                             '{{ incident_url }}')}
AFTER = {('update_overdue', 'responders', 'chat'): ('',
                                            ':alarm_clock: *Status update overdue on <{{ incident_url }}|{{ ref }}>* – '
                                            '{{ update_rule }}\n'
                                            '{{ message }}'),
 ('update_overdue', 'responders', 'email'): ('Status update overdue: {{ ref }} – {{ title }}',
                                             'A status update for {{ ref }} ({{ severity }}, {{ status_label }}) is '
                                             'overdue.\n'
                                             '{{ update_rule }} Stakeholders are waiting.\n'
                                             '\n'
                                             '{{ message }}\n'
                                             '\n'
                                             'Post an update now: {{ incident_url }}'),
 ('update_overdue', 'responders', 'sms'): ('',
                                           '{{ ref }}: status update overdue. {{ update_rule }} Post one: {{ '
                                           'incident_url }}'),
 ('update_overdue', 'restricted', 'chat'): ('',
                                            ":alarm_clock: {% if is_drill == 'yes' %}[DRILL] {% endif %}*<{{ "
                                            'incident_url }}|{{ ref }}> {{ severity }} (restricted): status update '
                                            'overdue*\n'
                                            '{{ update_rule }}\n'
                                            "*Affected services:* {{ services|default:'not yet known' }}"),
 ('update_overdue', 'restricted', 'email'): ("{% if is_drill == 'yes' %}[DRILL] {% endif %}{{ ref }} {{ severity }} "
                                             '(restricted): status update overdue',
                                             "{% if is_drill == 'yes' %}[DRILL] {% endif %}{{ ref }} {{ severity }} "
                                             '({{ severity_label }}) – restricted incident: status update overdue.\n'
                                             '{{ update_rule }}\n'
                                             "Affected services: {{ services|default:'not yet known' }}\n"
                                             '\n'
                                             'This incident is restricted: the details are in Vigil, for its '
                                             'participants only.\n'
                                             '{{ incident_url }}')}


def _replace(apps, old, new) -> None:
    MessageTemplate = apps.get_model("comms", "MessageTemplate")
    for (kind, audience, channel), (subject, body) in old.items():
        MessageTemplate.objects.filter(kind=kind, audience=audience, channel=channel, subject=subject, body=body).update(
            subject=new[kind, audience, channel][0], body=new[kind, audience, channel][1]
        )


def forwards(apps, schema_editor):
    _replace(apps, BEFORE, AFTER)


def backwards(apps, schema_editor):
    _replace(apps, AFTER, BEFORE)


class Migration(migrations.Migration):

    dependencies = [
        ("comms", "0003_shift_cover_messages"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
