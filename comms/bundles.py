"""The words of one outgoing message: a row's own, or a bundle of the rows due for one address.

Pure: reads the rows (and their incidents, already joined) and writes nothing; the outbox
sends what it returns.
"""

from __future__ import annotations

import re

from django.conf import settings

from . import templating
from .backends import Message
from .models import Audience, Channel, Notification


def message(row: Notification, others: list[Notification]) -> Message:
    """The message for `row`, or for `row` and the rows bundled with it (in `reading_order`,
    `row` first). A bundle never hides a page: its subject or header names every incident in
    it, most severe first, and pages come first in the text. Customers' bundles keep to their
    own messages' words (no incident numbers or severities)."""
    if not others:
        return Message(row.pk, row.channel, row.address, _own_subject(row), row.body, row.html_body, row.webhook_url)
    items = [row, *others]
    count = len(items)
    if row.channel == Channel.SMS:
        from .sms import fit

        # One short line per message, so every incident and its ACK code fit the segments
        # (and if they do not, the cut falls on the least pressing).
        body = f"Vigil: {count} messages. " + " | ".join(_sms_line(item) for item in items)
        body = fit(body, settings.VIGIL_SMS_MAX_SEGMENTS)
        return Message(row.pk, row.channel, row.address, "", body, "", row.webhook_url)
    separator = "\n\n" + "—" * 20 + "\n\n"
    internal = all(item.audience != Audience.CUSTOMERS for item in items)
    incidents = _incidents_named(items) if internal else []
    if row.channel == Channel.CHAT:
        # Chat bodies are Slack mrkdwn already; a subject cut from them could break their links.
        names = ", ".join(f"{incident.reference} {incident.severity.name}" for incident in incidents)
        header = f"*{count} messages from Vigil{': ' + names if names else ''}*"
        body = header + "\n\n" + separator.join(item.body for item in items)
        return Message(row.pk, row.channel, row.address, "", body, "", row.webhook_url)
    body = f"{count} messages from Vigil for this address, sent together:\n\n" + separator.join(item.body for item in items)
    html = "<hr>".join(item.html_body for item in items if item.html_body)
    return Message(row.pk, row.channel, row.address, _bundle_subject(items, incidents), body, html, row.webhook_url)


def _own_subject(row: Notification) -> str:
    """The row's subject, naming its incident even when an edited template left it out (never
    for customers, who are not told incident numbers)."""
    incident = row.incident
    if row.channel != Channel.EMAIL or incident is None or row.audience == Audience.CUSTOMERS:
        return row.subject
    if re.search(rf"(?<![\w-]){re.escape(incident.reference)}(?!\d)", row.subject):
        return row.subject
    return f"{incident.reference} {incident.severity.name}: {row.subject}"


def reading_order(row: Notification) -> tuple:
    """Pages first; then by incident, most severe first and newest first among equals; then
    the newest message first."""
    return (not row.is_page, *_incident_order(row.incident), -row.created_at.timestamp(), -row.pk)


def _incident_order(incident) -> tuple:
    if incident is None:  # a message about no incident (a report) comes after every incident
        return (1, 0, 0.0, 0)
    return (0, incident.severity.rank, -incident.declared_at.timestamp(), -incident.pk)


def _incidents_named(items: list[Notification]) -> list:
    """The incidents of a bundle, each once, most severe first and newest first among equals."""
    incidents = {item.incident_id: item.incident for item in items if item.incident is not None}
    return sorted(incidents.values(), key=_incident_order)


def _bundle_subject(items: list[Notification], incidents: list) -> str:
    """Names every incident in the bundle, with its title while that fits the templates' subject
    limit; past that, the references and severities alone — all of them, never cut."""
    urgent = "[URGENT] " if any(item.is_page for item in items) else ""
    start = f"{urgent}{len(items)} messages from Vigil"
    if not incidents:  # customers', or about no incident: their own subjects
        return " ".join(f"{start}: {'; '.join(item.subject for item in items if item.subject)}".split())[:templating.MAX_SUBJECT]
    with_titles = f"{start}: " + "; ".join(
        f"{incident.reference} {incident.severity.name}: {incident.title}" for incident in incidents
    )
    with_titles = " ".join(with_titles.split())
    if len(with_titles) <= templating.MAX_SUBJECT:
        return with_titles
    return f"{start}: " + ", ".join(f"{incident.reference} {incident.severity.name}" for incident in incidents)


def _sms_line(item: Notification) -> str:
    if item.incident is None or item.audience == Audience.CUSTOMERS:
        return item.body[:60]
    incident = item.incident
    # A restricted incident's title is not said outside Vigil, bundled or not.
    about = "restricted" if incident.is_restricted else incident.title[:40]
    line = f"{incident.reference} {incident.severity.name}: {about}"
    return line + (f" ACK {item.ack_code}" if item.is_page and item.ack_code else "")
