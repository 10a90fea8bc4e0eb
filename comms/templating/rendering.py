"""Rendering a message: a subject, a text body and an HTML body from template text and a flat
context. Output is capped in size; SMS bodies are cut to `VIGIL_SMS_MAX_SEGMENTS` segments
(`comms.sms`); chat values are escaped for Slack mrkdwn; the HTML part of an email is the text
part escaped, with paragraphs, line breaks and links.

`Renderer` renders from the `MessageTemplate` rows, falling back to the shipped defaults
(`comms.defaults`) and, when nothing renders, to words that cannot fail."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.template import Context
from django.utils.html import escape

from .. import defaults, slack, sms
from ..models import Audience, Channel, MessageTemplate
from .sandbox import compile_template, template_errors
from .variables import Entries, Value, blank, for_audience, sample_context

logger = logging.getLogger(__name__)

MAX_BODY = 20_000
MAX_SUBJECT = 300
ELLIPSIS = "…"


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    html_body: str


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


def _values_for(channel: str, ctx: dict[str, Value]) -> dict[str, Value]:
    if channel == Channel.CHAT:
        # Slack reads <…> as links and mentions (<!channel>): a title must not be able to page a room.
        return {
            name: value.map(slack.escape) if isinstance(value, Entries) else slack.escape(value)
            for name, value in ctx.items()
        }
    return ctx


def render_compiled(subject_template, body_template, channel: str, ctx: dict[str, Value]) -> Rendered:
    values = Context(_values_for(channel, ctx), autoescape=False)
    subject = one_line(subject_template.render(values)) if subject_template is not None else ""
    body = _cap(_tidy(body_template.render(values)), MAX_BODY)
    if channel == Channel.SMS:
        body = sms.fit(body, settings.VIGIL_SMS_MAX_SEGMENTS)
    html_body = html_from_text(body) if channel == Channel.EMAIL else ""
    return Rendered(subject=subject, body=body, html_body=html_body)


def render_text(subject: str, body: str, channel: str, ctx: dict[str, Value]) -> Rendered:
    """Render template text that is not (yet) a saved row: the admin's preview and validation."""
    return render_compiled(compile_template(subject) if subject else None, compile_template(body), channel, ctx)


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
            {name: blank(value) for name, value in sample_context().items()},  # every variable blank
        ):
            try:
                render_text(subject or "", body or "", channel, check)
            except Exception as error:
                problems.append(f"The template does not render: {type(error).__name__}: {error}")
                break
    return problems


def _last_resort(audience: str, channel: str, ctx: dict[str, Value]) -> Rendered:
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

    def render(self, kind: str, audience: str, channel: str, ctx: dict[str, Value]) -> Rendered:
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
