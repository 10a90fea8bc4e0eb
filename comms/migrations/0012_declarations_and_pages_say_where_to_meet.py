"""Declarations and pages to responders and internal stakeholders say where to meet: the call
bridge and the war-room channel (`call_bridge_url`, `war_room`, `war_room_url`), when the incident
has them; nothing when it has neither.

Rows still holding the words shipped before get the new ones; rows an operator edited are left as
they are (the template page shows the new default beside them)."""

from django.db import migrations

# (kind, audience, channel): (subject, body), frozen here: `comms.defaults` moves on.
BEFORE = {('declared', 'internal', 'chat'): ('',
                                    ":rotating_light: {% if is_drill == 'yes' %}[DRILL] {% endif %}*INCIDENT DECLARED: "
                                    '<{{ incident_url }}|{{ ref }}> – {{ title }}*\n'
                                    '*Severity:* {{ severity }} ({{ severity_label }}) · *Status:* {{ status_label }} '
                                    '· *IC:* {{ commander }}\n'
                                    '*Impact:* {{ impact }}\n'
                                    "*Affected services:* {{ services|default:'not yet known' }}\n"
                                    '{% if ack_url %}<{{ ack_url }}|Acknowledge> or `/incident ack {{ ref }}`{% endif '
                                    '%}'),
 ('declared', 'internal', 'email'): ("{% if is_drill == 'yes' %}[DRILL] {% endif %}INCIDENT DECLARED: {{ ref }} – {{ "
                                     'title }}',
                                     "{% if is_drill == 'yes' %}[DRILL] {% endif %}INCIDENT DECLARED: {{ ref }}\n"
                                     'Severity: {{ severity }} ({{ severity_label }})\n'
                                     'Status: {{ status_label }}\n'
                                     'Impact: {{ impact }}\n'
                                     'Incident Commander: {{ commander }}\n'
                                     "Affected services: {{ services|default:'not yet known' }}\n"
                                     'Declared: {{ declared_at }}\n'
                                     '{% if summary %}\n'
                                     'What we know:\n'
                                     '{{ summary }}\n'
                                     '{% endif %}\n'
                                     '{% if ack_url %}Acknowledge: {{ ack_url }}{% endif %}\n'
                                     "Next update: {{ next_update|default:'to follow' }}\n"
                                     'Incident page: {{ incident_url }}'),
 ('declared', 'responders', 'chat'): ('',
                                      ":rotating_light: {% if is_drill == 'yes' %}[DRILL] {% endif %}*INCIDENT "
                                      'DECLARED: <{{ incident_url }}|{{ ref }}> – {{ title }}*\n'
                                      '*Severity:* {{ severity }} ({{ severity_label }}) · *Status:* {{ status_label '
                                      '}} · *IC:* {{ commander }}\n'
                                      '*Impact:* {{ impact }}\n'
                                      "*Affected services:* {{ services|default:'not yet known' }}\n"
                                      '{% if ack_url %}<{{ ack_url }}|Acknowledge> or `/incident ack {{ ref }}`{% '
                                      'endif %}'),
 ('declared', 'responders', 'email'): ("{% if is_drill == 'yes' %}[DRILL] {% endif %}INCIDENT DECLARED: {{ ref }} – {{ "
                                       'title }}',
                                       "{% if is_drill == 'yes' %}[DRILL] {% endif %}INCIDENT DECLARED: {{ ref }}\n"
                                       'Severity: {{ severity }} ({{ severity_label }})\n'
                                       'Status: {{ status_label }}\n'
                                       'Impact: {{ impact }}\n'
                                       'Incident Commander: {{ commander }}\n'
                                       "Affected services: {{ services|default:'not yet known' }}\n"
                                       'Declared: {{ declared_at }}\n'
                                       '{% if summary %}\n'
                                       'What we know:\n'
                                       '{{ summary }}\n'
                                       '{% endif %}\n'
                                       '{% if ack_url %}Acknowledge: {{ ack_url }}{% endif %}\n'
                                       "Next update: {{ next_update|default:'to follow' }}\n"
                                       'Incident page: {{ incident_url }}'),
 ('page', 'responders', 'chat'): ('',
                                  ":rotating_light: {% if is_drill == 'yes' %}[DRILL] {% endif %}*[URGENT] Production "
                                  'Incident – <{{ incident_url }}|{{ ref }}> {{ severity }}: {{ title }}*\n'
                                  '{% if recipient_name %}{{ recipient_name }}, you are being paged{% else %}Paging{% '
                                  'endif %}{% if level_name %} (level {{ level }} · {{ level_name }}){% endif %}{% if '
                                  'reason %}: {{ reason }}{% endif %}.\n'
                                  '*Impact:* {{ impact }} · *IC:* {{ commander }}\n'
                                  '{% if ack_url %}<{{ ack_url }}|Acknowledge> or {% endif %}`/incident ack {{ ref '
                                  '}}`'),
 ('page', 'responders', 'email'): ("{% if is_drill == 'yes' %}[DRILL] {% endif %}[URGENT] Production Incident – {{ ref "
                                   '}} {{ severity }}: {{ title }}',
                                   "{% if is_drill == 'yes' %}[DRILL] {% endif %}[URGENT] Production Incident – {{ ref "
                                   '}} {{ severity }}: {{ title }}\n'
                                   '\n'
                                   'You are being paged{% if level_name %} as escalation level {{ level }} · {{ '
                                   'level_name }}{% endif %}{% if reason %} ({{ reason }}){% endif %}.\n'
                                   '\n'
                                   'Severity: {{ severity }} ({{ severity_label }})\n'
                                   'Status: {{ status_label }}\n'
                                   'Impact: {{ impact }}\n'
                                   "Affected services: {{ services|default:'not yet known' }}\n"
                                   'Incident Commander: {{ commander }}\n'
                                   'Declared: {{ declared_at }}\n'
                                   '{% if summary %}\n'
                                   '{{ summary }}\n'
                                   '{% endif %}\n'
                                   '{% if ack_url %}Acknowledge now: {{ ack_url }}{% endif %}\n'
                                   'Incident page: {{ incident_url }}')}

AFTER = {('declared', 'internal', 'chat'): ('',
                                    ":rotating_light: {% if is_drill == 'yes' %}[DRILL] {% endif %}*INCIDENT DECLARED: "
                                    '<{{ incident_url }}|{{ ref }}> – {{ title }}*\n'
                                    '*Severity:* {{ severity }} ({{ severity_label }}) · *Status:* {{ status_label }} '
                                    '· *IC:* {{ commander }}\n'
                                    '*Impact:* {{ impact }}\n'
                                    "*Affected services:* {{ services|default:'not yet known' }}\n"
                                    '{% if ack_url %}<{{ ack_url }}|Acknowledge> or `/incident ack {{ ref }}`{% endif '
                                    '%}\n'
                                    '{% if call_bridge_url %}<{{ call_bridge_url }}|Join the call>{% endif %}{% if '
                                    'war_room_url %}{% if call_bridge_url %} · {% endif %}<{{ war_room_url }}|{{ '
                                    'war_room }}>{% endif %}'),
 ('declared', 'internal', 'email'): ("{% if is_drill == 'yes' %}[DRILL] {% endif %}INCIDENT DECLARED: {{ ref }} – {{ "
                                     'title }}',
                                     "{% if is_drill == 'yes' %}[DRILL] {% endif %}INCIDENT DECLARED: {{ ref }}\n"
                                     'Severity: {{ severity }} ({{ severity_label }})\n'
                                     'Status: {{ status_label }}\n'
                                     'Impact: {{ impact }}\n'
                                     'Incident Commander: {{ commander }}\n'
                                     "Affected services: {{ services|default:'not yet known' }}\n"
                                     'Declared: {{ declared_at }}\n'
                                     '{% if summary %}\n'
                                     'What we know:\n'
                                     '{{ summary }}\n'
                                     '{% endif %}\n'
                                     '{% if ack_url %}Acknowledge: {{ ack_url }}{% endif %}\n'
                                     "Next update: {{ next_update|default:'to follow' }}\n"
                                     'Incident page: {{ incident_url }}\n'
                                     '{% if call_bridge_url %}Call bridge: {{ call_bridge_url }}{% endif %}{% if '
                                     'war_room_url %}{% if call_bridge_url %}\n'
                                     '{% endif %}War room: {{ war_room }} {{ war_room_url }}{% endif %}'),
 ('declared', 'responders', 'chat'): ('',
                                      ":rotating_light: {% if is_drill == 'yes' %}[DRILL] {% endif %}*INCIDENT "
                                      'DECLARED: <{{ incident_url }}|{{ ref }}> – {{ title }}*\n'
                                      '*Severity:* {{ severity }} ({{ severity_label }}) · *Status:* {{ status_label '
                                      '}} · *IC:* {{ commander }}\n'
                                      '*Impact:* {{ impact }}\n'
                                      "*Affected services:* {{ services|default:'not yet known' }}\n"
                                      '{% if ack_url %}<{{ ack_url }}|Acknowledge> or `/incident ack {{ ref }}`{% '
                                      'endif %}\n'
                                      '{% if call_bridge_url %}<{{ call_bridge_url }}|Join the call>{% endif %}{% if '
                                      'war_room_url %}{% if call_bridge_url %} · {% endif %}<{{ war_room_url }}|{{ '
                                      'war_room }}>{% endif %}'),
 ('declared', 'responders', 'email'): ("{% if is_drill == 'yes' %}[DRILL] {% endif %}INCIDENT DECLARED: {{ ref }} – {{ "
                                       'title }}',
                                       "{% if is_drill == 'yes' %}[DRILL] {% endif %}INCIDENT DECLARED: {{ ref }}\n"
                                       'Severity: {{ severity }} ({{ severity_label }})\n'
                                       'Status: {{ status_label }}\n'
                                       'Impact: {{ impact }}\n'
                                       'Incident Commander: {{ commander }}\n'
                                       "Affected services: {{ services|default:'not yet known' }}\n"
                                       'Declared: {{ declared_at }}\n'
                                       '{% if summary %}\n'
                                       'What we know:\n'
                                       '{{ summary }}\n'
                                       '{% endif %}\n'
                                       '{% if ack_url %}Acknowledge: {{ ack_url }}{% endif %}\n'
                                       "Next update: {{ next_update|default:'to follow' }}\n"
                                       'Incident page: {{ incident_url }}\n'
                                       '{% if call_bridge_url %}Call bridge: {{ call_bridge_url }}{% endif %}{% if '
                                       'war_room_url %}{% if call_bridge_url %}\n'
                                       '{% endif %}War room: {{ war_room }} {{ war_room_url }}{% endif %}'),
 ('page', 'responders', 'chat'): ('',
                                  ":rotating_light: {% if is_drill == 'yes' %}[DRILL] {% endif %}*[URGENT] Production "
                                  'Incident – <{{ incident_url }}|{{ ref }}> {{ severity }}: {{ title }}*\n'
                                  '{% if recipient_name %}{{ recipient_name }}, you are being paged{% else %}Paging{% '
                                  'endif %}{% if level_name %} (level {{ level }} · {{ level_name }}){% endif %}{% if '
                                  'reason %}: {{ reason }}{% endif %}.\n'
                                  '*Impact:* {{ impact }} · *IC:* {{ commander }}\n'
                                  '{% if ack_url %}<{{ ack_url }}|Acknowledge> or {% endif %}`/incident ack {{ ref '
                                  '}}`\n'
                                  '{% if call_bridge_url %}<{{ call_bridge_url }}|Join the call>{% endif %}{% if '
                                  'war_room_url %}{% if call_bridge_url %} · {% endif %}<{{ war_room_url }}|{{ '
                                  'war_room }}>{% endif %}'),
 ('page', 'responders', 'email'): ("{% if is_drill == 'yes' %}[DRILL] {% endif %}[URGENT] Production Incident – {{ ref "
                                   '}} {{ severity }}: {{ title }}',
                                   "{% if is_drill == 'yes' %}[DRILL] {% endif %}[URGENT] Production Incident – {{ ref "
                                   '}} {{ severity }}: {{ title }}\n'
                                   '\n'
                                   'You are being paged{% if level_name %} as escalation level {{ level }} · {{ '
                                   'level_name }}{% endif %}{% if reason %} ({{ reason }}){% endif %}.\n'
                                   '\n'
                                   'Severity: {{ severity }} ({{ severity_label }})\n'
                                   'Status: {{ status_label }}\n'
                                   'Impact: {{ impact }}\n'
                                   "Affected services: {{ services|default:'not yet known' }}\n"
                                   'Incident Commander: {{ commander }}\n'
                                   'Declared: {{ declared_at }}\n'
                                   '{% if summary %}\n'
                                   '{{ summary }}\n'
                                   '{% endif %}\n'
                                   '{% if ack_url %}Acknowledge now: {{ ack_url }}{% endif %}\n'
                                   'Incident page: {{ incident_url }}\n'
                                   '{% if call_bridge_url %}Call bridge: {{ call_bridge_url }}{% endif %}{% if '
                                   'war_room_url %}{% if call_bridge_url %}\n'
                                   '{% endif %}War room: {{ war_room }} {{ war_room_url }}{% endif %}')}


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
        ("comms", "0011_war_room_messages"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
