"""War-room channel names: the template (`VIGIL_WAR_ROOM_CHANNEL_NAME`, default
`inc-{number}-{slug}`) filled in for an incident, in the characters chat providers accept, within
the provider's length limit, and `-2`, `-3`… when a name is taken."""

from __future__ import annotations

import re
import string

from django.core.exceptions import ValidationError
from django.utils.text import slugify

PLACEHOLDERS = ("number", "reference", "slug", "date")
_NOT_ALLOWED = re.compile(r"[^a-z0-9_-]+")


def validate_template(template: str) -> None:
    """A form error unless `template` uses only the known placeholders and names the incident."""
    if not template.strip():
        raise ValidationError("Give a channel name template, e.g. inc-{number}-{slug}.")
    try:
        names = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    except ValueError:
        raise ValidationError("Braces must pair up: write {number}, {reference}, {slug} or {date}.") from None
    unknown = sorted(names - set(PLACEHOLDERS))
    if unknown:
        raise ValidationError(
            f"Unknown placeholder {{{unknown[0]}}}: use {{number}}, {{reference}}, {{slug}} or {{date}}."
        )
    if not names & {"number", "reference"}:
        raise ValidationError("Include {number} or {reference}: every incident needs a channel of its own.")


def clean(name: str) -> str:
    """Lower case, no spaces or periods: what Slack and Mattermost accept."""
    return _NOT_ALLOWED.sub("-", name.lower()).strip("-_")


def channel_name(template: str, *, number: int, title: str, declared_at, limit: int) -> str:
    """The incident's channel name within `limit` characters: the title's slug is what gets cut,
    so the number always survives."""
    values = {"number": number, "reference": f"inc-{number}", "date": f"{declared_at:%Y-%m-%d}"}
    slug = clean(slugify(title))
    name = clean(template.format(**values, slug=slug))
    while len(name) > limit and slug:
        slug = slug[: max(0, len(slug) - (len(name) - limit))].rstrip("-")
        name = clean(template.format(**values, slug=slug))
    return name[:limit].rstrip("-_")


def with_suffix(base: str, attempt: int, limit: int) -> str:
    """The `attempt`-th name to try: the base, then base-2, base-3…, cut to fit `limit`."""
    if attempt <= 1:
        return base[:limit]
    suffix = f"-{attempt}"
    return base[: limit - len(suffix)].rstrip("-_") + suffix
