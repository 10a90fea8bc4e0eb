"""The shipped words for a restricted incident's participants: reference, severity and services
only. They render from the reduced context (`templating.RESTRICTED_VARIABLES`): a title,
summary, impact, name or update an operator adds here comes out blank."""

from __future__ import annotations

from ..models import MessageKind as K
from .pieces import DRILL, multiline

NOTE = "This incident is restricted: the details are in Vigil, for its participants only."


def _words(headline: str, chat_icon: str, *lines: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """(email, chat) words for a restricted incident: '<headline>' after the reference."""
    email = (
        DRILL + "{{ ref }} {{ severity }} (restricted): " + headline,
        multiline(
            DRILL + "{{ ref }} {{ severity }} ({{ severity_label }}) – restricted incident: " + headline + ".",
            *lines,
            "Affected services: {{ services|default:'not yet known' }}",
            "",
            NOTE,
            "{{ incident_url }}",
        ),
    )
    chat = (
        "",
        multiline(
            chat_icon + " " + DRILL + "*<{{ incident_url }}|{{ ref }}> {{ severity }} (restricted): " + headline + "*",
            *lines,
            "*Affected services:* {{ services|default:'not yet known' }}",
        ),
    )
    return email, chat


PAGE_EMAIL = (
    DRILL + "[URGENT] {{ ref }} {{ severity }} (restricted): you are being paged",
    multiline(
        DRILL + "[URGENT] {{ ref }} {{ severity }} ({{ severity_label }}) – restricted incident.",
        "",
        "You are being paged{% if level %} as escalation level {{ level }}{% endif %}.",
        "Affected services: {{ services|default:'not yet known' }}",
        "",
        "{% if ack_url %}Acknowledge now: {{ ack_url }}{% endif %}",
        NOTE,
        "{{ incident_url }}",
    ),
)
PAGE_SMS = (
    "",
    DRILL + "[URGENT] {{ ref }} {{ severity }} (restricted).{% if ack_url %} Ack: {{ ack_url }}{% endif %}"
    "{% if ack_code %} or reply ACK {{ ack_code }}{% endif %}",
)
PAGE_CHAT = (
    "",
    multiline(
        ":rotating_light: " + DRILL + "*[URGENT] <{{ incident_url }}|{{ ref }}> {{ severity }} (restricted)*",
        "{% if recipient_name %}{{ recipient_name }}, you are being paged{% else %}Paging{% endif %}"
        "{% if level %} (level {{ level }}){% endif %}. *Affected services:* {{ services|default:'not yet known' }}",
        "{% if ack_url %}<{{ ack_url }}|Acknowledge> or {% endif %}`/incident ack {{ ref }}`",
    ),
)
# Every other kind that can reach a restricted incident's participants: its (email, chat) words.
BY_KIND = {
    K.DECLARED: _words("declared", ":rotating_light:", "Declared: {{ declared_at }}"),
    K.STATUS_UPDATE: _words("a new status update", ":memo:", "Status: {{ status_label }}"),
    K.UPDATE_OVERDUE: _words(
        "status update overdue", ":alarm_clock:", "{{ update_rule }}"
    ),
    K.ACKNOWLEDGED: _words("acknowledged – you can stand down", ":white_check_mark:"),
    K.RESOLUTION: _words("resolved", ":white_check_mark:", "Resolved: {{ resolved_at }} (after {{ duration }})"),
    K.REOPENED: _words("reopened", ":repeat:", "Status: {{ status_label }}"),
    K.ESCALATION_INFO: _words(
        "has run {{ running_for }} — for your information", ":information_source:",
        "Acknowledged{% if acknowledged_at %} at {{ acknowledged_at }}{% endif %}; nothing to acknowledge.",
    ),
    K.STATUS_PAGE_OVERDUE: _words(
        "status page decision due", ":loudspeaker:",
        "Restricted incidents never go on the status page; record that decision on the timeline.",
    ),
    K.POSTMORTEM_REMINDER: _words("post-mortem reminder", ":notebook:", "{% if due_date %}Due: {{ due_date }}{% endif %}"),
}
