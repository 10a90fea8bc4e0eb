"""The shipped words for customers: plain language, no names, no internal detail; by email and
SMS, each pointing at the status page."""

from __future__ import annotations

from .pieces import REOPENED_PUBLIC_WORDS, multiline

# The organisation's name (VIGIL_ORGANISATION_NAME) heads the subject and signs the message.
FROM = "{% if organisation_name %}{{ organisation_name }}: {% endif %}"
SIGNED = "{% if organisation_name %}\n— {{ organisation_name }}{% endif %}"

NOTICE_EMAIL = (
    FROM + "Service Disruption Update – {{ title }}",
    multiline(
        "Service Disruption Update – {{ title }}",
        "",
        "{% if public_status == 'resolved' %}This issue has been resolved and our services are operating normally."
        "{% elif public_status == 'monitoring' %}We have applied a fix and are monitoring the results."
        "{% elif public_status == 'identified' %}We have identified the cause of the problem and are working on a fix."
        "{% else %}We are investigating a problem{% if customer_services %} affecting {{ customer_services }}{% endif %}."
        "{% endif %}",
        "{% if public_update %}",
        "{{ public_update }}",
        "{% endif %}",
        "Current status: {{ public_status|capfirst }}",
        "Started: {{ declared_at }}",
        "{% if public_status != 'resolved' %}We will share the next update {{ next_update|default:'as soon as we know more' }}.{% endif %}",
        "",
        "Follow the latest on our status page: {{ status_page_url }}",
        "",
        "We apologise for the inconvenience." + SIGNED,
    ),
)
NOTICE_SMS = (
    "",
    FROM + "Service update - {{ title|truncatechars:60 }}: {{ public_status }}. Details: {{ status_page_url }}",
)
RESOLUTION_EMAIL = (
    FROM + "Resolved: Service Disruption – {{ title }}",
    multiline(
        "Service Disruption Resolved – {{ title }}",
        "",
        "The issue that began {{ declared_at }} has been resolved and our services are operating normally.",
        "{% if public_update %}",
        "{{ public_update }}",
        "{% endif %}",
        "Details: {{ status_page_url }}",
        "",
        "Thank you for your patience, and we apologise for the inconvenience." + SIGNED,
    ),
)
RESOLUTION_SMS = ("", FROM + "Resolved - {{ title|truncatechars:60 }}. Our services are operating normally. {{ status_page_url }}")
REOPENED_EMAIL = (
    FROM + "Service Disruption Update – {{ title }}",
    multiline(
        "Service Disruption Update – {{ title }}",
        "",
        "{{ public_update|default:'" + REOPENED_PUBLIC_WORDS + "' }}",
        "",
        "Current status: Investigating",
        "Started: {{ declared_at }}",
        "We will share the next update {{ next_update|default:'as soon as we know more' }}.",
        "",
        "Follow the latest on our status page: {{ status_page_url }}",
        "",
        "We apologise for the inconvenience." + SIGNED,
    ),
)
REOPENED_SMS = (
    "",
    FROM + "Service update - {{ title|truncatechars:60 }}: the issue has recurred; we are investigating. {{ status_page_url }}",
)
