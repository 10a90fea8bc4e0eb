"""The message templates Vigil ships: one (subject, body) per kind × audience × channel that
makes sense, in the procedures' wording, and the fallback order for the cells left out.

The data migration copies them into `MessageTemplate` rows so operators edit them in the
admin; `comms.templating.Renderer` falls back to them when a row is missing or broken.
Variables are the flat context of `comms.templating.context` (listed in `templating.VARIABLES`).

SMS texts use plain ASCII punctuation (a dash, not an en dash): one character outside GSM-7
makes the whole message UCS-2 and halves what a segment holds. Chat texts are Slack mrkdwn.
Customer texts name no person and no internal detail. Restricted-incident texts say the
reference, severity and services (and the acknowledge link of a page), and render from a
context where everything else is blank; they never fall back to another audience's words.
"""

from __future__ import annotations

from collections.abc import Iterator

from .models import Audience, Channel, MessageKind

K, A, C = MessageKind, Audience, Channel

Cell = tuple[str, str, str]  # (kind, audience, channel)

DRILL = "{% if is_drill == 'yes' %}[DRILL] {% endif %}"
# What customers are told when an incident comes back, unless the reopen gave words of its own
# for them (`data["public_update"]`): the reopen's reason is internal. The status page too.
REOPENED_PUBLIC_WORDS = "The issue has recurred; we are investigating."
NEXT_UPDATE = "Next update: {{ next_update|default:'to follow' }}"


def _lines(*lines: str) -> str:
    return "\n".join(lines)


# --- Internal wording (responders, internal stakeholders) ---------------------------------------

DECLARED_EMAIL = (
    DRILL + "INCIDENT DECLARED: {{ ref }} – {{ title }}",
    _lines(
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
    ),
)
DECLARED_SMS = (
    "",
    DRILL + "INCIDENT DECLARED {{ ref }} {{ severity }}: {{ title|truncatechars:80 }}. IC: {{ commander }}."
    "{% if ack_url %} Ack: {{ ack_url }}{% if ack_code %} or reply ACK {{ ack_code }}{% endif %}{% endif %}",
)
DECLARED_CHAT = (
    "",
    _lines(
        ":rotating_light: " + DRILL + "*INCIDENT DECLARED: <{{ incident_url }}|{{ ref }}> – {{ title }}*",
        "*Severity:* {{ severity }} ({{ severity_label }}) · *Status:* {{ status_label }} · *IC:* {{ commander }}",
        "*Impact:* {{ impact }}",
        "*Affected services:* {{ services|default:'not yet known' }}",
        "{% if ack_url %}<{{ ack_url }}|Acknowledge> or `/incident ack {{ ref }}`{% endif %}",
    ),
)

PAGE_EMAIL = (
    DRILL + "[URGENT] Production Incident – {{ ref }} {{ severity }}: {{ title }}",
    _lines(
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
    ),
)
PAGE_SMS = (
    "",
    DRILL + "[URGENT] {{ ref }} {{ severity }}: {{ title|truncatechars:60 }}."
    "{% if ack_url %} Ack: {{ ack_url }}{% endif %}{% if ack_code %} or reply ACK {{ ack_code }}{% endif %}",
)
PAGE_CHAT = (
    "",
    _lines(
        ":rotating_light: " + DRILL + "*[URGENT] Production Incident – <{{ incident_url }}|{{ ref }}> {{ severity }}: {{ title }}*",
        "{% if recipient_name %}{{ recipient_name }}, you are being paged{% else %}Paging{% endif %}"
        "{% if level_name %} (level {{ level }} · {{ level_name }}){% endif %}{% if reason %}: {{ reason }}{% endif %}.",
        "*Impact:* {{ impact }} · *IC:* {{ commander }}",
        "{% if ack_url %}<{{ ack_url }}|Acknowledge> or {% endif %}`/incident ack {{ ref }}`",
    ),
)

STATUS_UPDATE_EMAIL = (
    "INCIDENT UPDATE: {{ ref }} – {{ title }}",
    _lines(
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
    _lines(
        ":memo: *Update on <{{ incident_url }}|{{ ref }}> – {{ title }}*",
        "*Status:* {{ status_label }} · *Severity:* {{ severity }} · *IC:* {{ commander }}",
        "{{ update|default:message }}",
        "_" + NEXT_UPDATE + "_",
    ),
)

UPDATE_OVERDUE_EMAIL = (
    "Status update overdue: {{ ref }} – {{ title }}",
    _lines(
        "A status update for {{ ref }} ({{ severity }}, {{ status_label }}) is overdue.",
        "{{ severity }} incidents need an update every {{ update_interval }}; stakeholders are waiting.",
        "",
        "{{ message }}",
        "",
        "Post an update now: {{ incident_url }}",
    ),
)
UPDATE_OVERDUE_SMS = ("", "{{ ref }} {{ severity }}: status update overdue (every {{ update_interval }}). Post one: {{ incident_url }}")
UPDATE_OVERDUE_CHAT = (
    "",
    ":alarm_clock: *Status update overdue on <{{ incident_url }}|{{ ref }}>* – {{ severity }} incidents need one every "
    "{{ update_interval }}.\n{{ message }}",
)

ACKNOWLEDGED_EMAIL = (
    "{{ ref }} acknowledged by {{ actor }}",
    _lines(
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
    _lines(
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
    _lines(
        ":white_check_mark: *INCIDENT RESOLVED: <{{ incident_url }}|{{ ref }}> – {{ title }}*",
        "*Severity:* {{ severity }} · *Duration:* {{ duration }} · *IC:* {{ commander }}",
        "{{ resolution_summary|default:message }}",
    ),
)

POSTMORTEM_EMAIL = (
    "Post-mortem {% if item %}action item{% else %}due{% endif %}: {{ ref }} – {{ title }}",
    _lines(
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
    _lines(
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
    _lines(
        ":repeat: " + DRILL + "*INCIDENT REOPENED: <{{ incident_url }}|{{ ref }}> – {{ title }}*",
        "*Reopened by* {{ actor }}{% if reason %}: {{ reason }}{% endif %}",
        "*Severity:* {{ severity }} · *Status:* {{ status_label }} · *IC:* {{ commander }}",
    ),
)

# An escalation level engaged to inform (management, by how long the incident has run), after
# someone acknowledged: nothing to acknowledge, no link to do it.
ESCALATION_INFO_EMAIL = (
    DRILL + "{{ ref }} {{ severity }} has run {{ running_for }} — for your information",
    _lines(
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
    _lines(
        ":information_source: " + DRILL + "*<{{ incident_url }}|{{ ref }}> {{ severity }} has run {{ running_for }} — for your information*",
        "{{ title }}",
        "*Acknowledged*{% if acknowledged_by %} by {{ acknowledged_by }}{% endif %}{% if acknowledged_at %} at {{ acknowledged_at }}{% endif %}"
        " · *IC:* {{ commander }} · *Status:* {{ status_label }}",
    ),
)

STATUS_PAGE_OVERDUE_EMAIL = (
    "{{ ref }} {{ severity }} is not on the status page yet{% if status_page_window %} (window: {{ status_page_window }}){% endif %}"
    " — publish it or decide not to",
    _lines(
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
    _lines("{{ report_body|default:'Nothing to report.' }}", "", "Vigil · {{ now }}"),
)
REPORT_CHAT = ("", "*{{ report_title|default:'Vigil report' }}*\n{{ report_body|default:'Nothing to report.' }}")

# --- Executives: short, impact first ------------------------------------------------------------

EXECUTIVE_BODY = _lines(
    "{{ ref }} · {{ severity }} ({{ severity_label }}) · {{ status_label }}",
    "{{ title }}",
    "",
    "Impact: {{ impact }}",
    "Customer-facing: {{ customer_facing }}",
    "{% if update %}Latest: {{ update }}{% endif %}",
    "Incident Commander: {{ commander }}",
    "{% if public_status == 'resolved' %}Resolved after {{ duration }}.{% else %}" + NEXT_UPDATE + "{% endif %}",
)
EXECUTIVE_SUMMARY_EMAIL = ("Executive summary: {{ ref }} {{ severity }} – {{ title }}", EXECUTIVE_BODY)
EXECUTIVE_DECLARED_EMAIL = (DRILL + "INCIDENT DECLARED: {{ ref }} {{ severity }} – {{ title }}", EXECUTIVE_BODY)
EXECUTIVE_UPDATE_EMAIL = ("INCIDENT UPDATE: {{ ref }} {{ severity }} – {{ title }}", EXECUTIVE_BODY)
EXECUTIVE_RESOLUTION_EMAIL = ("INCIDENT RESOLVED: {{ ref }} {{ severity }} – {{ title }}", EXECUTIVE_BODY)
EXECUTIVE_REOPENED_EMAIL = (
    "INCIDENT REOPENED: {{ ref }} {{ severity }} – {{ title }}",
    _lines("{{ ref }} was resolved and has come back{% if reason %}: {{ reason }}{% endif %}.", "", EXECUTIVE_BODY),
)

# --- Customers: plain language, no names ---------------------------------------------------------

CUSTOMER_NOTICE_EMAIL = (
    "Service Disruption Update – {{ title }}",
    _lines(
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
        "We apologise for the inconvenience.",
    ),
)
CUSTOMER_NOTICE_SMS = (
    "",
    "Service update - {{ title|truncatechars:60 }}: {{ public_status }}. Details: {{ status_page_url }}",
)
CUSTOMER_RESOLUTION_EMAIL = (
    "Resolved: Service Disruption – {{ title }}",
    _lines(
        "Service Disruption Resolved – {{ title }}",
        "",
        "The issue that began {{ declared_at }} has been resolved and our services are operating normally.",
        "{% if public_update %}",
        "{{ public_update }}",
        "{% endif %}",
        "Details: {{ status_page_url }}",
        "",
        "Thank you for your patience, and we apologise for the inconvenience.",
    ),
)
CUSTOMER_RESOLUTION_SMS = ("", "Resolved - {{ title|truncatechars:60 }}. Our services are operating normally. {{ status_page_url }}")
CUSTOMER_REOPENED_EMAIL = (
    "Service Disruption Update – {{ title }}",
    _lines(
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
        "We apologise for the inconvenience.",
    ),
)
CUSTOMER_REOPENED_SMS = (
    "",
    "Service update - {{ title|truncatechars:60 }}: the issue has recurred; we are investigating. {{ status_page_url }}",
)

# --- Restricted incidents: reference, severity and services only --------------------------------
#
# Rendered from the reduced context (`templating.RESTRICTED_VARIABLES`): a title, summary,
# impact, name or update an operator adds here comes out blank.

RESTRICTED_NOTE = "This incident is restricted: the details are in Vigil, for its participants only."


def _restricted(headline: str, chat_icon: str, *lines: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """(email, chat) words for a restricted incident: '<headline>' after the reference."""
    email = (
        DRILL + "{{ ref }} {{ severity }} (restricted): " + headline,
        _lines(
            DRILL + "{{ ref }} {{ severity }} ({{ severity_label }}) – restricted incident: " + headline + ".",
            *lines,
            "Affected services: {{ services|default:'not yet known' }}",
            "",
            RESTRICTED_NOTE,
            "{{ incident_url }}",
        ),
    )
    chat = (
        "",
        _lines(
            chat_icon + " " + DRILL + "*<{{ incident_url }}|{{ ref }}> {{ severity }} (restricted): " + headline + "*",
            *lines,
            "*Affected services:* {{ services|default:'not yet known' }}",
        ),
    )
    return email, chat


RESTRICTED_PAGE_EMAIL = (
    DRILL + "[URGENT] {{ ref }} {{ severity }} (restricted): you are being paged",
    _lines(
        DRILL + "[URGENT] {{ ref }} {{ severity }} ({{ severity_label }}) – restricted incident.",
        "",
        "You are being paged{% if level %} as escalation level {{ level }}{% endif %}.",
        "Affected services: {{ services|default:'not yet known' }}",
        "",
        "{% if ack_url %}Acknowledge now: {{ ack_url }}{% endif %}",
        RESTRICTED_NOTE,
        "{{ incident_url }}",
    ),
)
RESTRICTED_PAGE_SMS = (
    "",
    DRILL + "[URGENT] {{ ref }} {{ severity }} (restricted).{% if ack_url %} Ack: {{ ack_url }}{% endif %}"
    "{% if ack_code %} or reply ACK {{ ack_code }}{% endif %}",
)
RESTRICTED_PAGE_CHAT = (
    "",
    _lines(
        ":rotating_light: " + DRILL + "*[URGENT] <{{ incident_url }}|{{ ref }}> {{ severity }} (restricted)*",
        "{% if recipient_name %}{{ recipient_name }}, you are being paged{% else %}Paging{% endif %}"
        "{% if level %} (level {{ level }}){% endif %}. *Affected services:* {{ services|default:'not yet known' }}",
        "{% if ack_url %}<{{ ack_url }}|Acknowledge> or {% endif %}`/incident ack {{ ref }}`",
    ),
)
RESTRICTED = {
    K.DECLARED: _restricted("declared", ":rotating_light:", "Declared: {{ declared_at }}"),
    K.STATUS_UPDATE: _restricted("a new status update", ":memo:", "Status: {{ status_label }}"),
    K.UPDATE_OVERDUE: _restricted(
        "status update overdue", ":alarm_clock:", "{{ severity }} incidents need an update every {{ update_interval }}."
    ),
    K.ACKNOWLEDGED: _restricted("acknowledged – you can stand down", ":white_check_mark:"),
    K.RESOLUTION: _restricted("resolved", ":white_check_mark:", "Resolved: {{ resolved_at }} (after {{ duration }})"),
    K.REOPENED: _restricted("reopened", ":repeat:", "Status: {{ status_label }}"),
    K.ESCALATION_INFO: _restricted(
        "has run {{ running_for }} — for your information", ":information_source:",
        "Acknowledged{% if acknowledged_at %} at {{ acknowledged_at }}{% endif %}; nothing to acknowledge.",
    ),
    K.STATUS_PAGE_OVERDUE: _restricted(
        "status page decision due", ":loudspeaker:",
        "Restricted incidents never go on the status page; record that decision on the timeline.",
    ),
    K.POSTMORTEM_REMINDER: _restricted("post-mortem reminder", ":notebook:", "{% if due_date %}Due: {{ due_date }}{% endif %}"),
}


def _cells() -> dict[Cell, tuple[str, str]]:
    cells: dict[Cell, tuple[str, str]] = {}

    def put(kind, audiences, email=None, sms=None, chat=None):
        for audience in audiences:
            for channel, text in ((C.EMAIL, email), (C.SMS, sms), (C.CHAT, chat)):
                if text is not None:
                    cells[(kind.value, audience.value, channel.value)] = text

    put(K.DECLARED, [A.RESPONDERS], DECLARED_EMAIL, DECLARED_SMS, DECLARED_CHAT)
    put(K.DECLARED, [A.INTERNAL], DECLARED_EMAIL, chat=DECLARED_CHAT)
    put(K.DECLARED, [A.EXECUTIVES], EXECUTIVE_DECLARED_EMAIL)
    put(K.STATUS_UPDATE, [A.RESPONDERS], STATUS_UPDATE_EMAIL, STATUS_UPDATE_SMS, STATUS_UPDATE_CHAT)
    put(K.STATUS_UPDATE, [A.INTERNAL], STATUS_UPDATE_EMAIL, chat=STATUS_UPDATE_CHAT)
    put(K.STATUS_UPDATE, [A.EXECUTIVES], EXECUTIVE_UPDATE_EMAIL)
    put(K.PAGE, [A.RESPONDERS], PAGE_EMAIL, PAGE_SMS, PAGE_CHAT)
    put(K.UPDATE_OVERDUE, [A.RESPONDERS], UPDATE_OVERDUE_EMAIL, UPDATE_OVERDUE_SMS, UPDATE_OVERDUE_CHAT)
    put(K.ACKNOWLEDGED, [A.RESPONDERS], ACKNOWLEDGED_EMAIL, ACKNOWLEDGED_SMS, ACKNOWLEDGED_CHAT)
    put(K.RESOLUTION, [A.RESPONDERS], RESOLUTION_EMAIL, RESOLUTION_SMS, RESOLUTION_CHAT)
    put(K.RESOLUTION, [A.INTERNAL], RESOLUTION_EMAIL, chat=RESOLUTION_CHAT)
    put(K.RESOLUTION, [A.EXECUTIVES], EXECUTIVE_RESOLUTION_EMAIL)
    put(K.RESOLUTION, [A.CUSTOMERS], CUSTOMER_RESOLUTION_EMAIL, CUSTOMER_RESOLUTION_SMS)
    put(K.EXECUTIVE_SUMMARY, [A.EXECUTIVES], EXECUTIVE_SUMMARY_EMAIL)
    put(K.CUSTOMER_NOTICE, [A.CUSTOMERS], CUSTOMER_NOTICE_EMAIL, CUSTOMER_NOTICE_SMS)
    put(K.POSTMORTEM_REMINDER, [A.RESPONDERS], POSTMORTEM_EMAIL, POSTMORTEM_SMS, POSTMORTEM_CHAT)
    put(K.REOPENED, [A.RESPONDERS], REOPENED_EMAIL, REOPENED_SMS, REOPENED_CHAT)
    put(K.REOPENED, [A.INTERNAL], REOPENED_EMAIL, chat=REOPENED_CHAT)
    put(K.REOPENED, [A.EXECUTIVES], EXECUTIVE_REOPENED_EMAIL)
    put(K.REOPENED, [A.CUSTOMERS], CUSTOMER_REOPENED_EMAIL, CUSTOMER_REOPENED_SMS)
    # Told at once by email and chat, never by SMS (SMS is kept for pages).
    put(K.ESCALATION_INFO, [A.RESPONDERS], ESCALATION_INFO_EMAIL, chat=ESCALATION_INFO_CHAT)
    put(K.STATUS_PAGE_OVERDUE, [A.RESPONDERS], STATUS_PAGE_OVERDUE_EMAIL, STATUS_PAGE_OVERDUE_SMS, STATUS_PAGE_OVERDUE_CHAT)
    # A restricted incident's participants: every kind that can reach them, by email and chat;
    # pages by SMS too (other kinds on SMS borrow the restricted email words).
    put(K.PAGE, [A.RESTRICTED], RESTRICTED_PAGE_EMAIL, RESTRICTED_PAGE_SMS, RESTRICTED_PAGE_CHAT)
    for kind, (email, chat) in RESTRICTED.items():
        put(kind, [A.RESTRICTED], email, chat=chat)
    # Reports go to whoever a report names; executives fall back to these (responders' cell)
    # rather than having a cell of their own.
    put(K.REPORT, [A.RESPONDERS], REPORT_EMAIL, chat=REPORT_CHAT)
    return cells


DEFAULTS: dict[Cell, tuple[str, str]] = _cells()

# Whose words an audience borrows when its own cell is missing. Customers never borrow
# internal wording; a customer notice shown to staff is exactly what customers read.
AUDIENCE_FALLBACK = {
    A.RESPONDERS.value: [A.RESPONDERS.value, A.INTERNAL.value],
    A.INTERNAL.value: [A.INTERNAL.value, A.RESPONDERS.value],
    A.EXECUTIVES.value: [A.EXECUTIVES.value, A.INTERNAL.value, A.RESPONDERS.value],
    A.CUSTOMERS.value: [A.CUSTOMERS.value],
    # Restricted words never borrow from an audience that may say more.
    A.RESTRICTED.value: [A.RESTRICTED.value],
}
# Which kind of message stands in for one that has no words of its own for an audience.
KIND_FALLBACK = {
    K.EXECUTIVE_SUMMARY.value: [K.STATUS_UPDATE.value],
    K.CUSTOMER_NOTICE.value: [K.STATUS_UPDATE.value],
    K.UPDATE_OVERDUE.value: [K.STATUS_UPDATE.value],
    K.ACKNOWLEDGED.value: [K.STATUS_UPDATE.value],
    K.PAGE.value: [K.DECLARED.value],
    K.POSTMORTEM_REMINDER.value: [K.STATUS_UPDATE.value],
    K.REPORT.value: [],
    K.REOPENED.value: [K.STATUS_UPDATE.value],
    K.ESCALATION_INFO.value: [K.STATUS_UPDATE.value],
    K.STATUS_PAGE_OVERDUE.value: [K.UPDATE_OVERDUE.value, K.STATUS_UPDATE.value],
}


def candidates(kind: str, audience: str, channel: str) -> Iterator[Cell]:
    """The cells to try, best first, for a message of `kind` to `audience` on `channel`.

    The channel is kept as long as possible (an SMS should read like an SMS), then the
    kind, then the audience; email words on another channel come last."""
    kind, audience, channel = str(kind), str(audience), str(channel)
    audiences = list(AUDIENCE_FALLBACK.get(audience, [audience, A.RESPONDERS.value]))
    if audience == A.CUSTOMERS.value:
        kinds = [kind, K.CUSTOMER_NOTICE.value]
    elif audience == A.RESTRICTED.value:
        # Any restricted words rather than another audience's: a status update's, else a page's.
        kinds = [kind, *KIND_FALLBACK.get(kind, []), K.STATUS_UPDATE.value, K.PAGE.value]
    else:
        kinds = [kind, *KIND_FALLBACK.get(kind, [K.STATUS_UPDATE.value])]
        if kind == K.CUSTOMER_NOTICE.value:
            audiences.append(A.CUSTOMERS.value)
    channels = [channel] if channel == C.EMAIL.value else [channel, C.EMAIL.value]
    if audience in (A.CUSTOMERS.value, A.RESTRICTED.value) or kind == K.CUSTOMER_NOTICE.value:
        # Customer words stay customer words, on whichever channel has them; so do a
        # restricted kind's own words (a restricted SMS declaration reads its email words,
        # not a page's).
        order = [(k, a, c) for k in kinds for c in channels for a in audiences]
    else:
        order = [(k, a, c) for c in channels for k in kinds for a in audiences]
    seen = set()
    for cell in order:
        if cell not in seen:
            seen.add(cell)
            yield cell
