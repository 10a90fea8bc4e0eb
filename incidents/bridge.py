"""Call bridges: the video or phone room an incident's responders meet in (a Meet, Zoom or Jitsi
room per incident). A service may carry a URL template; otherwise the global one,
`VIGIL_CALL_BRIDGE_URL`, applies. `declare` stamps the rendered URL on the incident, so the link
never moves under a running call when services or settings change; the page, the war-room topic and
messages read `Incident.call_bridge_url`.

A template names the incident with `{number}` (42), `{reference}` (INC-42) and `{slug}` (inc-42);
nothing else, so a typo is a form error and not a broken link at 3 a.m.
"""

from __future__ import annotations

import string
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

PLACEHOLDERS = ("number", "reference", "slug")
_URL = URLValidator(schemes=["https", "http"])


def render(template: str, number: int) -> str:
    """The template with the incident's placeholders filled in ("" for no template)."""
    if not template:
        return ""
    return template.format(number=number, reference=f"INC-{number}", slug=f"inc-{number}")


def validate_template(template: str) -> None:
    """A form error unless `template` uses only the known placeholders and renders to a web URL."""
    if not template:
        return
    try:
        names = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    except ValueError:
        raise ValidationError("Braces must pair up: write {reference}, {number} or {slug}.") from None
    unknown = sorted(names - set(PLACEHOLDERS))
    if unknown:
        raise ValidationError(
            f"Unknown placeholder {{{unknown[0]}}}: use {{number}}, {{reference}} or {{slug}}."
        )
    try:
        _URL(render(template, 42))
    except ValidationError:
        raise ValidationError(
            "This does not make a web address: start with https:// and fill in the incident, "
            "e.g. https://meet.jit.si/acme-{reference}."
        ) from None


def for_incident(number: int, services: Iterable) -> str:
    """The bridge for a new incident: the first of its services (by name) with a template, else the
    global template, else none."""
    templates = sorted((s.name, s.call_bridge_url) for s in services if s.call_bridge_url)
    template = templates[0][1] if templates else settings.VIGIL_CALL_BRIDGE_URL
    return render(template, number)
