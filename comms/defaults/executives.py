"""The shipped words for executives: short, impact first, who is on it, by email only."""

from __future__ import annotations

from .pieces import DRILL, NEXT_UPDATE, multiline

BODY = multiline(
    "{{ ref }} · {{ severity }} ({{ severity_label }}) · {{ status_label }}",
    "{{ title }}",
    "",
    "Impact: {{ impact }}",
    "Customer-facing: {{ customer_facing }}",
    "{% if update %}Latest: {{ update }}{% endif %}",
    "Incident Commander: {{ commander }}",
    "Response Team: {{ response_team|default:'being assembled' }}",
    "{% if public_status == 'resolved' %}Resolved after {{ duration }}.{% else %}" + NEXT_UPDATE + "{% endif %}",
)
SUMMARY_EMAIL = ("Executive summary: {{ ref }} {{ severity }} – {{ title }}", BODY)
DECLARED_EMAIL = (DRILL + "INCIDENT DECLARED: {{ ref }} {{ severity }} – {{ title }}", BODY)
STATUS_UPDATE_EMAIL = ("INCIDENT UPDATE: {{ ref }} {{ severity }} – {{ title }}", BODY)
RESOLUTION_EMAIL = ("INCIDENT RESOLVED: {{ ref }} {{ severity }} – {{ title }}", BODY)
REOPENED_EMAIL = (
    "INCIDENT REOPENED: {{ ref }} {{ severity }} – {{ title }}",
    multiline("{{ ref }} was resolved and has come back{% if reason %}: {{ reason }}{% endif %}.", "", BODY),
)
