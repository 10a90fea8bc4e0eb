"""What a message template may use: every variable with its description and sample value (the
template page lists them; validation and previews render against the samples), and the few a
restricted incident's messages may fill.

Every variable is a plain string but one, `participants`: a list of entries whose fields are
plain strings (`Entries` of `Entry`), read as `{% for person in participants %}{{ person.name }}`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from ..models import Audience


class Entry(Mapping):
    """One item of a list variable (a participant): named plain-string fields a template reads as
    `person.name`, printed alone as its text. Read-only, unlike a dict: a template that calls a
    method on it (`person.clear`) can change nothing other recipients' messages share."""

    __slots__ = ("_fields", "_text")

    def __init__(self, text: str, **fields: str):
        self._text, self._fields = text, fields

    def __getitem__(self, name: str) -> str:
        return self._fields[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __str__(self) -> str:
        return self._text

    def map(self, change: Callable[[str], str]) -> Entry:
        """The same entry with every string changed (chat escapes them all)."""
        return Entry(change(self._text), **{name: change(value) for name, value in self._fields.items()})


class Entries(tuple):
    """A list variable: its entries in order (a tuple, so nothing can append or pop), printed alone
    as their texts joined by commas."""

    def __str__(self) -> str:
        return ", ".join(str(entry) for entry in self)

    def map(self, change: Callable[[str], str]) -> Entries:
        return Entries(entry.map(change) for entry in self)


Value = str | Entries  # what a context holds under a name


def person(name: str, roles: str, email: str) -> Entry:
    """A participant as templates see it: `.name`, `.role`, `.email`; printed 'Alice Ng (Incident commander)'."""
    return Entry(f"{name} ({roles})", name=name, role=roles, email=email)


SAMPLE_PARTICIPANTS = Entries(
    (
        person("Alice Ng", "Incident commander", "alice@example.com"),
        person("Bob Smith", "Technical lead", "bob@example.com"),
    )
)

# The context, documented for the template editor (and filled with sample values).
ALL_VARIABLES: dict[str, tuple[str, str]] = {
    "ref": ("Incident reference", "INC-42"),
    "title": ("Incident title", "Checkout API returning errors"),
    "severity": ("Severity name", "SEV-1"),
    "severity_label": ("Severity label", "Critical"),
    "status": ("Status (code)", "investigating"),
    "status_label": ("Status", "Investigating"),
    "public_status": ("Status-page status: investigating, identified, monitoring or resolved", "investigating"),
    "summary": ("Summary", "Card payments fail with HTTP 502 since the 14:00 deploy."),
    "impact": ("Impact description, or a sentence from users affected and regions", "About 1,200 users affected in eu-west-1."),
    "impact_description": ("The impact description as written (blank when none)", "Card payments fail for EU customers."),
    "users_affected_estimated": ("Users affected, estimated (blank when not given)", "1,200"),
    "users_affected_confirmed": ("Users affected, confirmed (blank when not given)", ""),
    "regions": ("Affected regions, comma-separated", "eu-west-1"),
    "revenue_impact": ("Revenue impact: None, Low, Medium or High", "Medium"),
    "reputation_impact": ("Reputation impact: None, Low, Medium or High", "Low"),
    "compliance_impact": ("Compliance impact: None, Low, Medium or High", "None"),
    "services": ("Affected services, comma-separated", "Checkout API, Payments"),
    "customer_services": ("Affected customer-facing services only", "Checkout API"),
    "customer_facing": ("yes or no", "yes"),
    "is_drill": ("yes or no", "no"),
    "commander": ("Incident commander's name, or 'unassigned'", "Alice Ng"),
    "response_team": (
        "Who is working on it: each current participant's name and roles, the most senior role first "
        "(Responder only for someone with no other role)",
        str(SAMPLE_PARTICIPANTS),
    ),
    "participants": (
        "The same people as a list to loop over, each with .name, .role (their roles) and .email: "
        "{% for person in participants %}{{ person.name }} ({{ person.role }}) {{ person.email }}{% endfor %}",
        str(SAMPLE_PARTICIPANTS),
    ),
    "declared_at": ("When declared, in the recipient's time zone", "22 Nov 2026 14:05 GMT"),
    "resolved_at": ("When resolved (blank while open)", ""),
    "duration": ("How long it has lasted (to resolution, or so far)", "25 min"),
    "update_interval": ("How often this severity expects a status update, on its clock", "2 h of business hours"),
    "update_rule": (
        "The update cadence in a sentence; in update-overdue reminders, the one that was missed: the first "
        "update's (from declaration) or the later updates' (with when the last one was)",
        "SEV-1 incidents need an update every 15 min; the last one was at 22 Nov 2026 14:05 GMT.",
    ),
    "next_update": ("When the next update is due: 'by …' or 'within …' (blank once resolved)", "by 22 Nov 2026 14:20 GMT"),
    "next_update_due": ("When the next status update is due, in the recipient's time zone (blank when none is due)", "Sun 22 Nov 14:20 GMT"),
    "postmortem_policy": ("Post-mortem for this severity: Required, Optional…", "Required"),
    "resolution_summary": ("Resolution summary", ""),
    "incident_url": ("Link to the incident in Vigil", "https://vigil.example.com/admin/incidents/incident/42/change/"),
    "call_bridge_url": ("The incident's call bridge (blank when none)", "https://meet.jit.si/acme-INC-42"),
    "war_room": ("The incident's war-room channel, e.g. #inc-42-checkout (blank until it is open)", "#inc-42-checkout-api"),
    "war_room_url": ("Link to the war-room channel (blank until it is open)", "https://acme.slack.com/archives/C0123ABCD"),
    "status_page_url": ("Link to the public status page", "https://vigil.example.com/status/"),
    "organisation_name": ("Your organisation's name (the VIGIL_ORGANISATION_NAME setting; blank when unset)", "Acme"),
    "now": ("The time of sending, in the recipient's time zone", "22 Nov 2026 14:10 GMT"),
    "event_kind": ("The timeline event's kind", "status_update"),
    "occurred_at": ("When the event happened, in the recipient's time zone", "22 Nov 2026 14:09 GMT"),
    "message": ("The timeline event's text", "Rolled back the 14:00 deploy; error rate falling."),
    "update": ("The status update's text (status updates only)", "Rolled back the 14:00 deploy; error rate falling."),
    "public_update": ("The status update's text if it was posted for customers (external), else blank", ""),
    "actor": ("Who did it", "Alice Ng"),
    "recipient_name": ("The recipient's name (blank for an outside address)", "Bob Smith"),
    "level": ("Escalation level number (pages)", "2"),
    "level_name": ("Escalation level name (pages)", "Team lead"),
    "reason": ("Why the level was engaged (pages)", "acknowledge SLA breached"),
    "targets": ("Who the event paged or told", "Bob Smith, Carol Jones"),
    "ack_url": ("Acknowledge link (pages)", "https://vigil.example.com/ack/abc123/"),
    "ack_code": ("Code to reply by SMS: ACK <code> (pages)", "123456"),
    "acknowledged_by": ("Who acknowledged the incident (blank until acknowledged)", "Bob Smith"),
    "acknowledged_at": ("When it was acknowledged, in the recipient's time zone", "22 Nov 2026 14:08 GMT"),
    "running_for": ("How long after declaration the event happened", "15 min"),
    "status_page_window": ("How soon this severity goes on the status page (publication reminders)", "15 min"),
    # Keys later features add through `extra`; blank unless given, listed so templates using them validate.
    "due_date": ("Post-mortem reminders: the due date", "25 Nov 2026"),
    "item": ("Post-mortem reminders: the action item", "Add an alert on checkout 5xx rate"),
    "postmortem_url": ("Post-mortem reminders: link to the post-mortem", ""),
    "report_title": ("Reports: the title", "Weekly escalation report"),
    "report_body": ("Reports: the text", "3 incidents, 1 SLA breach."),
}
# What every message's context holds, and what only `extra` fills (blank unless given).
EXTRA_NAMES = ("due_date", "item", "postmortem_url", "report_title", "report_body")
VARIABLES: dict[str, tuple[str, str]] = {name: about for name, about in ALL_VARIABLES.items() if name not in EXTRA_NAMES}
EXTRA_VARIABLES: dict[str, tuple[str, str]] = {name: ALL_VARIABLES[name] for name in EXTRA_NAMES}


# All a message about a restricted incident may say: its reference, severity and services,
# times, and the links and codes its recipient acts on — never its title, summary, impact,
# people or the text of its updates. Every other variable is blank when the audience is
# restricted, whatever an operator's template asks for.
RESTRICTED_VARIABLES = frozenset(
    {
        "ref", "severity", "severity_label", "services", "customer_services", "status", "status_label",
        "is_drill", "declared_at", "resolved_at", "acknowledged_at", "duration", "running_for",
        "update_interval", "update_rule", "next_update", "next_update_due", "status_page_window", "incident_url", "call_bridge_url", "war_room_url", "now", "event_kind",
        "occurred_at", "recipient_name", "level", "ack_url", "ack_code", "due_date",
    }
)


def blank(value: Value) -> Value:
    """A value emptied, keeping its kind: a list stays a list a template can loop over."""
    return Entries() if isinstance(value, Entries) else ""


def for_audience(audience: str, ctx: dict[str, Value]) -> dict[str, Value]:
    """The context an audience's template renders from: for a restricted incident's audience,
    everything but `RESTRICTED_VARIABLES` blanked."""
    if audience != Audience.RESTRICTED:
        return ctx
    return {name: value if name in RESTRICTED_VARIABLES else blank(value) for name, value in ctx.items()}


def sample_context(**overrides: Value) -> dict[str, Value]:
    """Made-up values for every variable: what templates are validated (and previewed) against."""
    values: dict[str, Value] = {name: sample for name, (_, sample) in ALL_VARIABLES.items()}
    values["participants"] = SAMPLE_PARTICIPANTS
    values.update(overrides)
    return values
