"""Message words: the flat context that describes an incident to one recipient, and rendering the
`MessageTemplate` rows (or the shipped defaults) into a subject, a text body and an HTML body.

Templates run on a Django template engine of their own: no loaders, no `{% load %}`, an
allow-list of tags and filters, over a context of plain strings — so an operator's template
can reach no model, method, file or other template. Output is capped in size; SMS bodies
are cut to `VIGIL_SMS_MAX_SEGMENTS` segments; chat values are escaped for Slack mrkdwn; the
HTML part of an email is the text part escaped, with paragraphs, line breaks and links.

    ctx = templating.context(incident, event=event, recipient=user, extra={"ack_url": url, "ack_code": code})
    rendered = templating.Renderer().render(kind, audience, channel, ctx)   # subject, body, html_body

For a fan-out, compute `base = templating.base_context(incident)` once and pass `base=base`.
"""

from __future__ import annotations

import functools
import logging
import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.template import Context, Engine, Library, TemplateSyntaxError
from django.template.base import Lexer, TokenType
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from incidents import selectors
from oncall.formatting import duration

from . import defaults, slack, sms
from .models import Audience, Channel, MessageTemplate
from .status import PUBLIC_STATUSES

logger = logging.getLogger(__name__)

MAX_BODY = 20_000
MAX_SUBJECT = 300
MAX_SOURCE = 20_000  # characters of template text
ELLIPSIS = "…"

# What a template may use. Everything that reaches outside the template (include, extends,
# load, debug, url, csrf_token) is left out, and so is everything that can turn a short
# template into an enormous output (lorem, center/ljust/rjust, stringformat, floatformat).
ALLOWED_TAGS = frozenset(
    {
        "autoescape", "comment", "cycle", "filter", "firstof", "for", "if", "ifchanged", "now",
        "regroup", "resetcycle", "spaceless", "templatetag", "verbatim", "widthratio", "with",
    }
)
ALLOWED_FILTERS = frozenset(
    {
        "add", "addslashes", "capfirst", "cut", "date", "default", "default_if_none", "divisibleby",
        "escape", "escapejs", "escapeseq", "filesizeformat", "first", "force_escape", "iriencode", "join",
        "last", "length", "linebreaks", "linebreaksbr", "linenumbers", "lower", "make_list", "phone2numeric",
        "pluralize", "random", "safe", "safeseq", "slice", "slugify", "striptags", "time", "title",
        "truncatechars", "truncatechars_html", "truncatewords", "truncatewords_html", "upper", "urlencode",
        "urlize", "urlizetrunc", "wordcount", "wordwrap", "yesno",
    }
)
# Named in the refusal, so the operator learns why rather than "invalid block tag".
REACHING_OUT = frozenset({"load", "include", "extends", "ssi", "debug", "block", "url", "csrf_token", "querystring"})
MAX_LOOP_DEPTH = 1  # every value is a string: one loop over it is all a message needs

# The context, documented for the template editor (and filled with sample values).
VARIABLES: dict[str, tuple[str, str]] = {
    "ref": ("Incident reference", "INC-42"),
    "title": ("Incident title", "Checkout API returning errors"),
    "severity": ("Severity name", "SEV-1"),
    "severity_label": ("Severity label", "Critical"),
    "status": ("Status (code)", "investigating"),
    "status_label": ("Status", "Investigating"),
    "public_status": ("Status-page status: investigating, identified, monitoring or resolved", "investigating"),
    "summary": ("Summary", "Card payments fail with HTTP 502 since the 14:00 deploy."),
    "impact": ("Impact description, or a sentence from users affected and regions", "About 1,200 users affected in eu-west-1."),
    "services": ("Affected services, comma-separated", "Checkout API, Payments"),
    "customer_services": ("Affected customer-facing services only", "Checkout API"),
    "customer_facing": ("yes or no", "yes"),
    "is_drill": ("yes or no", "no"),
    "commander": ("Incident commander's name, or 'unassigned'", "Alice Ng"),
    "declared_at": ("When declared, in the recipient's time zone", "22 Nov 2026 14:05 GMT"),
    "resolved_at": ("When resolved (blank while open)", ""),
    "duration": ("How long it has lasted (to resolution, or so far)", "25 min"),
    "update_interval": ("How often this severity expects a status update", "15 min"),
    "next_update": ("When the next update is due: 'by …' or 'within …' (blank once resolved)", "by 22 Nov 2026 14:20 GMT"),
    "postmortem_policy": ("Post-mortem for this severity: Required, Optional…", "Required"),
    "resolution_summary": ("Resolution summary", ""),
    "incident_url": ("Link to the incident in Vigil", "https://vigil.example.com/admin/incidents/incident/42/change/"),
    "status_page_url": ("Link to the public status page", "https://vigil.example.com/status/"),
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
}
# Keys later features add through `extra`; blank unless given, listed so templates using them validate.
EXTRA_VARIABLES: dict[str, tuple[str, str]] = {
    "due_date": ("Post-mortem reminders: the due date", "25 Nov 2026"),
    "item": ("Post-mortem reminders: the action item", "Add an alert on checkout 5xx rate"),
    "postmortem_url": ("Post-mortem reminders: link to the post-mortem", ""),
    "report_title": ("Reports: the title", "Weekly escalation report"),
    "report_body": ("Reports: the text", "3 incidents, 1 SLA breach."),
}

# All a message about a restricted incident may say: its reference, severity and services,
# times, and the links and codes its recipient acts on — never its title, summary, impact,
# people or the text of its updates. Every other variable is blank when the audience is
# restricted, whatever an operator's template asks for.
RESTRICTED_VARIABLES = frozenset(
    {
        "ref", "severity", "severity_label", "services", "customer_services", "status", "status_label",
        "is_drill", "declared_at", "resolved_at", "acknowledged_at", "duration", "running_for",
        "update_interval", "next_update", "status_page_window", "incident_url", "now", "event_kind",
        "occurred_at", "recipient_name", "level", "ack_url", "ack_code", "due_date",
    }
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    html_body: str


# --- The context -------------------------------------------------------------------------------


def format_moment(moment: datetime | None, zone: zoneinfo.ZoneInfo | None = None) -> str:
    """'22 Nov 2026 14:05 GMT' in `zone` (UTC when none)."""
    if moment is None:
        return ""
    local = moment.astimezone(zone or zoneinfo.ZoneInfo("UTC"))
    return f"{local.day} {local:%b %Y %H:%M} {local.tzname()}"


def _zone(recipient) -> zoneinfo.ZoneInfo:
    name = getattr(recipient, "time_zone", None) or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _base_url() -> str:
    return settings.VIGIL_BASE_URL.rstrip("/")


def _impact(incident) -> str:
    if incident.impact_description.strip():
        return incident.impact_description.strip()
    if incident.users_affected_confirmed is not None:
        users = f"{incident.users_affected_confirmed:,} users affected"
    elif incident.users_affected_estimated is not None:
        users = f"about {incident.users_affected_estimated:,} users affected"
    else:
        users = ""
    regions = ", ".join(str(region) for region in incident.regions or [])
    if users and regions:
        sentence = f"{users} in {regions}."
    elif users:
        sentence = f"{users}."
    elif regions:
        sentence = f"affecting {regions}."
    else:
        return "Being assessed."
    return sentence[0].upper() + sentence[1:]


def for_audience(audience: str, ctx: dict[str, str]) -> dict[str, str]:
    """The context an audience's template renders from: for a restricted incident's audience,
    everything but `RESTRICTED_VARIABLES` blanked."""
    if audience != Audience.RESTRICTED:
        return ctx
    return {name: value if name in RESTRICTED_VARIABLES else "" for name, value in ctx.items()}


def _acknowledger(incident) -> str:
    """Who acknowledged: the actor of the incident's acknowledgement on the timeline."""
    from incidents.models import TimelineEvent

    event = (
        TimelineEvent.objects.filter(incident=incident, kind=TimelineEvent.Kind.ACKNOWLEDGED)
        .select_related("actor")
        .order_by("-occurred_at", "-pk")
        .first()
    )
    return event.actor_label if event is not None else ""


def _blank_base() -> dict[str, str]:
    values = {name: "" for name in VARIABLES}
    values.update(status_page_url=f"{_base_url()}/status/", customer_facing="no", is_drill="no", commander="unassigned")
    return values


def base_context(incident) -> dict[str, str]:
    """What every recipient of a message about `incident` shares, computed once (a few queries).

    Pass it as `context(..., base=...)` for each recipient. Instants are kept as ISO strings
    (`_declared_iso`…) and put in each recipient's time zone by `context`. `incident` may be
    None (a report about no one incident)."""
    values = _blank_base()
    values.update(_declared_iso="", _resolved_iso="", _started_iso="", _next_update_iso="", _acknowledged_iso="")
    if incident is None:
        return values
    severity = incident.severity
    services = list(incident.services.all())
    commanders = selectors.commanders_of(incident)
    next_update = selectors.next_update_due(incident)
    window = getattr(severity, "status_page_window", None)
    values.update(
        ref=incident.reference,
        title=incident.title,
        severity=severity.name,
        severity_label=severity.label,
        status=str(incident.status),
        status_label=incident.get_status_display(),
        public_status=PUBLIC_STATUSES.get(incident.status, "investigating"),
        summary=incident.summary,
        impact=_impact(incident),
        services=", ".join(service.name for service in services),
        customer_services=", ".join(service.name for service in services if service.customer_facing),
        customer_facing="yes" if incident.customer_facing else "no",
        is_drill="yes" if incident.is_drill else "no",
        commander=", ".join(str(user) for user in commanders) or "unassigned",
        update_interval=duration(severity.update_interval),
        postmortem_policy=severity.get_postmortem_policy_display(),
        resolution_summary=incident.resolution_summary,
        incident_url=_base_url() + reverse("admin:incidents_incident_change", args=[incident.pk]),
        _declared_iso=incident.declared_at.isoformat(),
        _resolved_iso=incident.resolved_at.isoformat() if incident.resolved_at else "",
        _started_iso=incident.started_at.isoformat(),
        _next_update_iso=next_update.isoformat() if next_update else "",
        # The latest acknowledgement (the reopen round's once there is one), as `acknowledged_by`.
        _acknowledged_iso=(incident.round_acknowledged_at or incident.acknowledged_at).isoformat() if incident.acknowledged_at else "",
        acknowledged_by=_acknowledger(incident) if incident.acknowledged_at else "",
        status_page_window=duration(window) if window else "",
    )
    return values


def _moment(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def context(incident, *, event=None, recipient=None, extra: dict | None = None, base: dict | None = None) -> dict[str, str]:
    """The flat context of plain strings a template renders from, for one recipient of one event.

    With `base` (from `base_context(incident)`) it costs no query: only the recipient's,
    the event's and `extra`'s fields are added."""
    values = dict(base if base is not None else base_context(incident))
    zone = _zone(recipient)
    now = timezone.now()
    declared, resolved = _moment(values.pop("_declared_iso", "")), _moment(values.pop("_resolved_iso", ""))
    started, next_update = _moment(values.pop("_started_iso", "")), _moment(values.pop("_next_update_iso", ""))
    acknowledged = _moment(values.pop("_acknowledged_iso", ""))
    values["declared_at"] = format_moment(declared, zone)
    values["acknowledged_at"] = format_moment(acknowledged, zone)
    values["resolved_at"] = format_moment(resolved, zone)
    values["now"] = format_moment(now, zone)
    if declared is not None:
        values["running_for"] = duration(max(now - declared, timedelta(0)))
    if started is not None:
        values["duration"] = duration(max((resolved or now) - started, timedelta(0)))
    if values.get("ref") and values.get("public_status") != "resolved":
        if next_update is not None:
            values["next_update"] = f"by {format_moment(next_update, zone)}"
        elif values.get("update_interval"):
            values["next_update"] = f"within {values['update_interval']}"
    values["recipient_name"] = str(recipient) if recipient is not None else ""

    if event is not None:
        data = event.data or {}
        values["event_kind"] = event.kind
        values["occurred_at"] = format_moment(event.occurred_at, zone)
        values["message"] = event.message
        values["actor"] = event.actor_label
        is_update = event.kind == "status_update"
        values["update"] = event.message if is_update else ""
        values["public_update"] = event.message if is_update and event.visibility == "external" else ""
        if event.kind == "reopened":
            # The reopen's reason is internal; customers get words given for them, if any.
            values["public_update"] = str(data.get("public_update") or "")
        if declared is not None:
            values["running_for"] = duration(max(event.occurred_at - declared, timedelta(0)))
        if data.get("window_seconds"):
            values["status_page_window"] = duration(timedelta(seconds=int(data["window_seconds"])))
        if data.get("level") is not None:
            values["level"] = str(data["level"])
        values["level_name"] = str(data.get("level_name") or "")
        values["reason"] = str(data.get("reason") or "")
        targets = data.get("targets") or []
        values["targets"] = ", ".join(
            str(target.get("name") or target.get("username") or "") if isinstance(target, dict) else str(target)
            for target in targets
        )
    for name in EXTRA_VARIABLES:
        values.setdefault(name, "")
    values.setdefault("ack_url", "")
    values.setdefault("ack_code", "")
    for name, value in (extra or {}).items():
        values[str(name)] = "" if value is None else value
    # Plain `str` only: choices enums and numbers become their text.
    return {name: value if type(value) is str else str(value) for name, value in values.items()}


def sample_context(**overrides: str) -> dict[str, str]:
    """Made-up values for every variable: what templates are validated (and previewed) against."""
    values = {name: sample for name, (_, sample) in {**VARIABLES, **EXTRA_VARIABLES}.items()}
    values.update(overrides)
    return values


# --- The engine --------------------------------------------------------------------------------


@functools.cache
def _engine() -> Engine:
    engine = Engine(loaders=[], libraries={}, autoescape=False, string_if_invalid="")
    library = Library()
    for builtin in engine.template_builtins:
        library.tags.update({name: tag for name, tag in builtin.tags.items() if name in ALLOWED_TAGS})
        library.filters.update({name: fn for name, fn in builtin.filters.items() if name in ALLOWED_FILTERS})
    engine.template_builtins = [library]
    return engine


def _scan(source: str, what: str) -> list[str]:
    """Refusals a parse would not explain well: tags that reach outside, loops in loops, size."""
    problems = []
    if len(source) > MAX_SOURCE:
        problems.append(f"{what}: {len(source):,} characters; a template may have at most {MAX_SOURCE:,}.")
    depth = 0
    for token in Lexer(source).tokenize():
        if token.token_type != TokenType.BLOCK or not token.contents.strip():
            continue
        name = token.split_contents()[0]
        if name in REACHING_OUT:
            problems.append(
                f"{what}, line {token.lineno}: {{% {name} %}} is not allowed — message templates cannot "
                "load tag libraries or reach other templates."
            )
        elif name == "for":
            depth += 1
            if depth > MAX_LOOP_DEPTH:
                problems.append(f"{what}, line {token.lineno}: a loop inside a loop is not allowed.")
        elif name == "endfor":
            depth = max(0, depth - 1)
    return problems


def compile_template(source: str):
    """A compiled template, or TemplateSyntaxError (unknown tag or filter, bad syntax, refused tag)."""
    problems = _scan(source, "Template")
    if problems:
        raise TemplateSyntaxError(problems[0])
    return _engine().from_string(source)


def template_errors(source: str, what: str = "Template") -> list[str]:
    """Why `source` cannot be used as a message template (empty when it can)."""
    problems = _scan(source, what)
    if problems:
        return problems
    try:
        template = _engine().from_string(source)
    except TemplateSyntaxError as error:
        return [f"{what}: {error}"]
    try:
        template.render(Context(sample_context(), autoescape=False))
    except Exception as error:  # anything a render can raise refuses the template
        return [f"{what} does not render: {type(error).__name__}: {error}"]
    return []


def validate(subject: str, body: str, channel: str) -> list[str]:
    """Why (subject, body) cannot be saved as a template for `channel` (empty when they can)."""
    problems = template_errors(subject or "", "Subject") + template_errors(body or "", "Body")
    if not (body or "").strip():
        problems.append("Body: a message needs a body.")
    if channel == Channel.EMAIL and not (subject or "").strip():
        problems.append("Subject: an email needs a subject.")
    if not problems:
        for check in (
            sample_context(),  # every variable set
            {name: "" for name in sample_context()},  # every variable blank
        ):
            try:
                render_text(subject or "", body or "", channel, check)
            except Exception as error:
                problems.append(f"The template does not render: {type(error).__name__}: {error}")
                break
    return problems


# --- Rendering ---------------------------------------------------------------------------------

_MANY_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def _tidy(text: str) -> str:
    """Template tags on lines of their own leave blank lines behind: keep at most one in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _TRAILING_SPACE.sub("\n", text + "\n")
    return _MANY_BLANK_LINES.sub("\n\n", text).strip()


def one_line(text: str, limit: int = MAX_SUBJECT) -> str:
    return _cap(" ".join(text.split()), limit)


# A web address in already-escaped text: up to whitespace or an escaped quote or bracket.
_LINK = re.compile(r"https?://(?:(?!&(?:quot|lt|gt|#x27);)[^\s<>\"'])+")
_LINK_TRAILER = ".,;:!?)]"


def _link(match: re.Match) -> str:
    address = match.group(0)
    trailer = ""
    while address and address[-1] in _LINK_TRAILER:  # "see https://x/." links https://x/
        address, trailer = address[:-1], address[-1] + trailer
    return f'<a href="{address}" rel="nofollow">{address}</a>{trailer}'


def html_from_text(text: str) -> str:
    """The HTML part of an email: the text escaped, blank lines as paragraphs, newlines as <br>,
    web addresses as links. (Django's `urlize` does the same but cost most of a fan-out's time.)"""
    paragraphs = [part for part in re.split(r"\n{2,}", text) if part.strip()]
    html = "\n".join(
        "<p>" + _LINK.sub(_link, escape(paragraph)).replace("\n", "<br>\n") + "</p>" for paragraph in paragraphs
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>'
        '<body style="font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; font-size: 14px; line-height: 1.5">\n'
        f"{html}\n</body></html>"
    )


def _values_for(channel: str, ctx: dict[str, str]) -> dict[str, str]:
    if channel == Channel.CHAT:
        # Slack reads <…> as links and mentions (<!channel>): a title must not be able to page a room.
        return {name: slack.escape(value) for name, value in ctx.items()}
    return ctx


def render_compiled(subject_template, body_template, channel: str, ctx: dict[str, str]) -> Rendered:
    values = Context(_values_for(channel, ctx), autoescape=False)
    subject = one_line(subject_template.render(values)) if subject_template is not None else ""
    body = _cap(_tidy(body_template.render(values)), MAX_BODY)
    if channel == Channel.SMS:
        body = sms.fit(body, settings.VIGIL_SMS_MAX_SEGMENTS)
    html_body = html_from_text(body) if channel == Channel.EMAIL else ""
    return Rendered(subject=subject, body=body, html_body=html_body)


def render_text(subject: str, body: str, channel: str, ctx: dict[str, str]) -> Rendered:
    """Render template text that is not (yet) a saved row: the admin's preview and validation."""
    return render_compiled(compile_template(subject) if subject else None, compile_template(body), channel, ctx)


def _last_resort(audience: str, channel: str, ctx: dict[str, str]) -> Rendered:
    """Words that cannot fail, for when no template (row or default) renders."""
    if audience == Audience.RESTRICTED:
        subject = f"{ctx.get('ref', '')} {ctx.get('severity', '')}: restricted incident".strip()
        body = f"{subject}\n{ctx.get('ack_url', '')}\n{ctx.get('incident_url', '')}"
    elif audience == Audience.CUSTOMERS:
        subject = f"Service Disruption Update – {ctx.get('title', '')}"
        body = f"{subject}\nCurrent status: {ctx.get('public_status', '')}.\n{ctx.get('status_page_url', '')}"
    else:
        subject = f"{ctx.get('ref', '')} {ctx.get('severity', '')}: {ctx.get('title', '')}".strip()
        body = f"{subject}\n{ctx.get('message') or ctx.get('status_label', '')}\n{ctx.get('incident_url', '')}"
    body = _tidy(body)
    if channel == Channel.SMS:
        body = sms.fit(body, settings.VIGIL_SMS_MAX_SEGMENTS)
    return Rendered(
        subject=one_line(subject), body=_cap(body, MAX_BODY), html_body=html_from_text(body) if channel == Channel.EMAIL else ""
    )


class Renderer:
    """Renders messages from the template rows, loaded once per instance, with compiled templates
    cached: make one per fan-out (or per task) and render any number of messages with it.

    A cell without a row uses the shipped default; a cell with neither borrows from the next
    cell in `defaults.candidates` (another audience, a related kind, the email words). A row
    that fails to compile or render is logged and skipped, so a broken edit never stops a page."""

    def __init__(self):
        self._rows: dict[tuple[str, str, str], tuple[str, str]] | None = None
        self._compiled: dict[str, object] = {}
        self._broken: set[str] = set()

    def _templates(self) -> dict[tuple[str, str, str], tuple[str, str]]:
        if self._rows is None:
            self._rows = {
                (row.kind, row.audience, row.channel): (row.subject, row.body)
                for row in MessageTemplate.objects.only("kind", "audience", "channel", "subject", "body")
            }
        return self._rows

    def _compile(self, source: str):
        if source not in self._compiled:
            self._compiled[source] = compile_template(source)
        return self._compiled[source]

    def sources(self, kind: str, audience: str, channel: str):
        """(cell, origin, subject, body) to try, best first; origin is 'template' or 'default'."""
        rows = self._templates()
        for cell in defaults.candidates(kind, audience, channel):
            if cell in rows:
                yield cell, "template", *rows[cell]
            if cell in defaults.DEFAULTS:
                yield cell, "default", *defaults.DEFAULTS[cell]

    def render(self, kind: str, audience: str, channel: str, ctx: dict[str, str]) -> Rendered:
        ctx = for_audience(audience, ctx)
        for cell, origin, subject, body in self.sources(kind, audience, channel):
            key = f"{origin}:{cell}"
            if key in self._broken:
                continue
            try:
                return render_compiled(self._compile(subject) if subject else None, self._compile(body), channel, ctx)
            except Exception:
                self._broken.add(key)
                logger.exception("message template %s %s cannot be used; trying the next one", origin, "/".join(cell))
        return _last_resort(str(audience), str(channel), ctx)
