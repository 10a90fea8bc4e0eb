"""The shipped words for responders and internal stakeholders: what happened, how bad, who
leads, and what to do (acknowledge, post an update, publish), on email, SMS and chat."""

from __future__ import annotations

from .pieces import DRILL, NEXT_UPDATE, multiline

# Where responders meet: the call bridge and the war-room channel, when the incident has them.
WHERE_TO_MEET = (
    "{% if call_bridge_url %}Call bridge: {{ call_bridge_url }}{% endif %}"
    "{% if war_room_url %}{% if call_bridge_url %}\n{% endif %}War room: {{ war_room }} {{ war_room_url }}{% endif %}"
)
WHERE_TO_MEET_CHAT = (
    "{% if call_bridge_url %}<{{ call_bridge_url }}|Join the call>{% endif %}"
    "{% if war_room_url %}{% if call_bridge_url %} · {% endif %}<{{ war_room_url }}|{{ war_room }}>{% endif %}"
)


DECLARED_EMAIL = (
    DRILL + "INCIDENT DECLARED: {{ ref }} – {{ title }}",
    multiline(
        DRILL + "INCIDENT DECLARED: {{ ref }}",
        "Severity: {{ severity }} ({{ severity_label }})",
        "Status: {{ status_label }}",
        "Impact: {{ impact }}",
        "Incident Commander: {{ commander }}",
        "Affected services: {{ services|default:'not yet known' }}",
        "Declared: {{ declared_at }}",
        "{% if summary %}",
        "What we know:",
        "{{ summary }}",
        "{% endif %}",
        "{% if ack_url %}Acknowledge: {{ ack_url }}{% endif %}",
        NEXT_UPDATE,
        "Incident page: {{ incident_url }}",
        WHERE_TO_MEET,
    ),
)
DECLARED_SMS = (
    "",
    DRILL + "INCIDENT DECLARED {{ ref }} {{ severity }}: {{ title|truncatechars:80 }}. IC: {{ commander }}."
    "{% if ack_url %} Ack: {{ ack_url }}{% if ack_code %} or reply ACK {{ ack_code }}{% endif %}{% endif %}",
)
DECLARED_CHAT = (
    "",
    multiline(
        ":rotating_light: " + DRILL + "*INCIDENT DECLARED: <{{ incident_url }}|{{ ref }}> – {{ title }}*",
        "*Severity:* {{ severity }} ({{ severity_label }}) · *Status:* {{ status_label }} · *IC:* {{ commander }}",
        "*Impact:* {{ impact }}",
        "*Affected services:* {{ services|default:'not yet known' }}",
        "{% if ack_url %}<{{ ack_url }}|Acknowledge> or `/incident ack {{ ref }}`{% endif %}",
        WHERE_TO_MEET_CHAT,
    ),
)

PAGE_EMAIL = (
    DRILL + "[URGENT] Production Incident – {{ ref }} {{ severity }}: {{ title }}",
    multiline(
        DRILL + "[URGENT] Production Incident – {{ ref }} {{ severity }}: {{ title }}",
        "",
        "You are being paged{% if level_name %} as escalation level {{ level }} · {{ level_name }}{% endif %}"
        "{% if reason %} ({{ reason }}){% endif %}.",
        "",
        "Severity: {{ severity }} ({{ severity_label }})",
        "Status: {{ status_label }}",
        "Impact: {{ impact }}",
        "Affected services: {{ services|default:'not yet known' }}",
        "Incident Commander: {{ commander }}",
        "Declared: {{ declared_at }}",
        "{% if summary %}",
        "{{ summary }}",
        "{% endif %}",
        "{% if ack_url %}Acknowledge now: {{ ack_url }}{% endif %}",
        "Incident page: {{ incident_url }}",
        WHERE_TO_MEET,
    ),
)
PAGE_SMS = (
    "",
    DRILL + "[URGENT] {{ ref }} {{ severity }}: {{ title|truncatechars:60 }}."
    "{% if ack_url %} Ack: {{ ack_url }}{% endif %}{% if ack_code %} or reply ACK {{ ack_code }}{% endif %}",
)
PAGE_CHAT = (
    "",
    multiline(
        ":rotating_light: " + DRILL + "*[URGENT] Production Incident – <{{ incident_url }}|{{ ref }}> {{ severity }}: {{ title }}*",
        "{% if recipient_name %}{{ recipient_name }}, you are being paged{% else %}Paging{% endif %}"
        "{% if level_name %} (level {{ level }} · {{ level_name }}){% endif %}{% if reason %}: {{ reason }}{% endif %}.",
        "*Impact:* {{ impact }} · *IC:* {{ commander }}",
        "{% if ack_url %}<{{ ack_url }}|Acknowledge> or {% endif %}`/incident ack {{ ref }}`",
        WHERE_TO_MEET_CHAT,
    ),
)

STATUS_UPDATE_EMAIL = (
    "INCIDENT UPDATE: {{ ref }} – {{ title }}",
    multiline(
        "INCIDENT UPDATE: {{ ref }}",
        "Severity: {{ severity }} ({{ severity_label }})",
        "Status: {{ status_label }}",
        "Impact: {{ impact }}",
        "Incident Commander: {{ commander }}",
        "",
        "Update{% if actor %} from {{ actor }}{% endif %} ({{ occurred_at|default:now }}):",
        "{{ update|default:message }}",
        "",
        NEXT_UPDATE,
        "Incident page: {{ incident_url }}",
    ),
)
STATUS_UPDATE_SMS = ("", "{{ ref }} {{ severity }} {{ status_label }}: {{ update|default:message|truncatechars:200 }}")
STATUS_UPDATE_CHAT = (
    "",
    multiline(
        ":memo: *Update on <{{ incident_url }}|{{ ref }}> – {{ title }}*",
        "*Status:* {{ status_label }} · *Severity:* {{ severity }} · *IC:* {{ commander }}",
        "{{ update|default:message }}",
        "_" + NEXT_UPDATE + "_",
    ),
)

UPDATE_OVERDUE_EMAIL = (
    "Status update overdue: {{ ref }} – {{ title }}",
    multiline(
        "A status update for {{ ref }} ({{ severity }}, {{ status_label }}) is overdue.",
        "{{ update_rule }} Stakeholders are waiting.",
        "",
        "{{ message }}",
        "",
        "Post an update now: {{ incident_url }}",
    ),
)
UPDATE_OVERDUE_SMS = ("", "{{ ref }}: status update overdue. {{ update_rule }} Post one: {{ incident_url }}")
UPDATE_OVERDUE_CHAT = (
    "",
    ":alarm_clock: *Status update overdue on <{{ incident_url }}|{{ ref }}>* – {{ update_rule }}\n{{ message }}",
)

ACKNOWLEDGED_EMAIL = (
    "{{ ref }} acknowledged by {{ actor }}",
    multiline(
        "{{ ref }} acknowledged by {{ actor }} – you can stand down.",
        "",
        "{{ ref }} {{ severity }}: {{ title }}",
        "Status: {{ status_label }}",
        "Incident Commander: {{ commander }}",
        "Incident page: {{ incident_url }}",
    ),
)
ACKNOWLEDGED_SMS = ("", "{{ ref }} acknowledged by {{ actor }} - you can stand down.")
ACKNOWLEDGED_CHAT = ("", ":white_check_mark: <{{ incident_url }}|{{ ref }}> acknowledged by {{ actor }} – you can stand down.")

RESOLUTION_EMAIL = (
    "INCIDENT RESOLVED: {{ ref }} – {{ title }}",
    multiline(
        "INCIDENT RESOLVED: {{ ref }}",
        "Severity: {{ severity }} ({{ severity_label }})",
        "Resolved: {{ resolved_at }} (after {{ duration }})",
        "Impact: {{ impact }}",
        "Incident Commander: {{ commander }}",
        "",
        "Resolution:",
        "{{ resolution_summary|default:message }}",
        "",
        "Post-mortem: {{ postmortem_policy }}",
        "Incident page: {{ incident_url }}",
    ),
)
RESOLUTION_SMS = ("", "RESOLVED {{ ref }} {{ severity }}: {{ title|truncatechars:80 }} (after {{ duration }}).")
RESOLUTION_CHAT = (
    "",
    multiline(
        ":white_check_mark: *INCIDENT RESOLVED: <{{ incident_url }}|{{ ref }}> – {{ title }}*",
        "*Severity:* {{ severity }} · *Duration:* {{ duration }} · *IC:* {{ commander }}",
        "{{ resolution_summary|default:message }}",
    ),
)

POSTMORTEM_EMAIL = (
    "Post-mortem {% if item %}action item{% else %}due{% endif %}: {{ ref }} – {{ title }}",
    multiline(
        "{% if item %}An action item from the post-mortem of {{ ref }} needs you:",
        "{{ item }}",
        "{% else %}The post-mortem of {{ ref }} ({{ severity }}: {{ title }}) is waiting for its draft.{% endif %}",
        "{% if due_date %}Due: {{ due_date }}{% endif %}",
        "{% if message %}",
        "{{ message }}",
        "{% endif %}",
        "{{ postmortem_url|default:incident_url }}",
    ),
)
POSTMORTEM_SMS = (
    "",
    "Post-mortem {% if item %}action item{% else %}draft{% endif %} for {{ ref }}{% if due_date %} due {{ due_date }}{% endif %}"
    "{% if item %}: {{ item|truncatechars:80 }}{% endif %}",
)
POSTMORTEM_CHAT = (
    "",
    ":notebook: Post-mortem {% if item %}action item{% else %}due{% endif %} for <{{ postmortem_url|default:incident_url }}|{{ ref }}>"
    "{% if due_date %} – due {{ due_date }}{% endif %}{% if item %}\n{{ item }}{% endif %}",
)

REOPENED_EMAIL = (
    DRILL + "INCIDENT REOPENED: {{ ref }} – {{ title }}",
    multiline(
        DRILL + "INCIDENT REOPENED: {{ ref }}",
        "{{ actor }} reopened {{ ref }}{% if reason %}: {{ reason }}{% endif %}",
        "",
        "Severity: {{ severity }} ({{ severity_label }})",
        "Status: {{ status_label }}",
        "Impact: {{ impact }}",
        "Incident Commander: {{ commander }}",
        "Affected services: {{ services|default:'not yet known' }}",
        "",
        NEXT_UPDATE,
        "Incident page: {{ incident_url }}",
    ),
)
REOPENED_SMS = (
    "",
    DRILL + "REOPENED {{ ref }} {{ severity }}: {{ title|truncatechars:60 }}{% if reason %} - {{ reason|truncatechars:60 }}{% endif %}",
)
REOPENED_CHAT = (
    "",
    multiline(
        ":repeat: " + DRILL + "*INCIDENT REOPENED: <{{ incident_url }}|{{ ref }}> – {{ title }}*",
        "*Reopened by* {{ actor }}{% if reason %}: {{ reason }}{% endif %}",
        "*Severity:* {{ severity }} · *Status:* {{ status_label }} · *IC:* {{ commander }}",
    ),
)

# An escalation level engaged to inform (management, by how long the incident has run), after
# someone acknowledged: nothing to acknowledge, no link to do it.
ESCALATION_INFO_EMAIL = (
    DRILL + "{{ ref }} {{ severity }} has run {{ running_for }} — for your information",
    multiline(
        DRILL + "{{ ref }} {{ severity }} ({{ severity_label }}): {{ title }}",
        "",
        "It has run {{ running_for }}; you are told{% if level_name %} as escalation level {{ level }} · {{ level_name }}{% endif %}"
        " for your information. Nothing to acknowledge.",
        "",
        "Acknowledged{% if acknowledged_by %} by {{ acknowledged_by }}{% endif %}{% if acknowledged_at %} at {{ acknowledged_at }}{% endif %}.",
        "Incident Commander: {{ commander }}",
        "Status: {{ status_label }}",
        "Impact: {{ impact }}",
        "Affected services: {{ services|default:'not yet known' }}",
        "",
        NEXT_UPDATE,
        "Incident page: {{ incident_url }}",
    ),
)
ESCALATION_INFO_CHAT = (
    "",
    multiline(
        ":information_source: " + DRILL + "*<{{ incident_url }}|{{ ref }}> {{ severity }} has run {{ running_for }} — for your information*",
        "{{ title }}",
        "*Acknowledged*{% if acknowledged_by %} by {{ acknowledged_by }}{% endif %}{% if acknowledged_at %} at {{ acknowledged_at }}{% endif %}"
        " · *IC:* {{ commander }} · *Status:* {{ status_label }}",
    ),
)

STATUS_PAGE_OVERDUE_EMAIL = (
    "{{ ref }} {{ severity }} is not on the status page yet{% if status_page_window %} (window: {{ status_page_window }}){% endif %}"
    " — publish it or decide not to",
    multiline(
        "{{ ref }} ({{ severity }}, {{ status_label }}): {{ title }}",
        "",
        "{{ severity }} incidents go on the public status page{% if status_page_window %} within {{ status_page_window }}{% endif %},"
        " and this one is not there yet.",
        "Publish it (mark it public and post an external update), or decide it stays off the page and say why on the timeline.",
        "",
        "{{ message }}",
        "",
        "Incident page: {{ incident_url }}",
    ),
)
STATUS_PAGE_OVERDUE_SMS = (
    "",
    "{{ ref }} {{ severity }} is not on the status page yet{% if status_page_window %} (window: {{ status_page_window }}){% endif %}."
    " Publish it or decide not to: {{ incident_url }}",
)
STATUS_PAGE_OVERDUE_CHAT = (
    "",
    ":loudspeaker: *<{{ incident_url }}|{{ ref }}> {{ severity }} is not on the status page yet*"
    "{% if status_page_window %} (window: {{ status_page_window }}){% endif %} – publish it or decide not to.",
)

REPORT_EMAIL = (
    "{{ report_title|default:'Vigil report' }}",
    multiline("{{ report_body|default:'Nothing to report.' }}", "", "Vigil · {{ now }}"),
)
REPORT_CHAT = ("", "*{{ report_title|default:'Vigil report' }}*\n{{ report_body|default:'Nothing to report.' }}")
