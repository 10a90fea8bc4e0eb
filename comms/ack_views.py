"""Acknowledge pages from outside the admin: the signed link in a page, and Twilio's inbound-SMS webhook."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from incidents.errors import DomainError

from . import acks

_REFUSAL_STATUS = {
    acks.AckRefused.INVALID: 400,
    acks.AckRefused.EXPIRED: 410,
    acks.AckRefused.GONE: 410,
    acks.AckRefused.USED: 410,
}


def _incident_url(incident) -> str:
    return settings.VIGIL_BASE_URL.rstrip("/") + reverse("admin:incidents_incident_change", args=[incident.pk])


def _page(request, template: str, context: dict, *, status: int = 200) -> HttpResponse:
    response = render(request, f"comms/{template}", {"vigil_url": settings.VIGIL_BASE_URL, **context}, status=status)
    # The URL is a credential: keep it out of search indexes and out of the Referer header
    # when the person follows the link to the incident.
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _refused(request, refusal: acks.AckRefused) -> HttpResponse:
    notification = refusal.notification
    context = {"reason": refusal.reason, "message": str(refusal)}
    if notification is not None:
        context.update(
            incident=notification.incident,
            incident_url=_incident_url(notification.incident),
            standing=acks.standing(notification.incident, viewer=notification.recipient),
        )
    return _page(request, "ack_refused.html", context, status=_REFUSAL_STATUS[refusal.reason])


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def ack(request, token: str) -> HttpResponse:
    """GET asks (mail scanners fetch links, so it never acts); POST acknowledges. No login: the
    signed token is the credential and says who is acknowledging."""
    try:
        notification = acks.page_for_link(token)
    except acks.AckRefused as refusal:
        return _refused(request, refusal)
    incident, person = notification.incident, notification.recipient
    context = {"incident": incident, "person": person, "incident_url": _incident_url(incident)}

    if request.method == "POST":
        try:
            incident = acks.acknowledge_page(notification)
        except acks.AckRefused as refusal:
            return _refused(request, refusal)
        except DomainError as exc:
            # Someone got there first (or it was resolved): nothing wrong with the link.
            incident.refresh_from_db()
            context["standing"] = acks.standing(incident, viewer=person) or str(exc)
            return _page(request, "ack_standing.html", context, status=409)
        context.update(incident=incident, acknowledged_at=acks.at(incident.round_acknowledged_at or incident.acknowledged_at, person))
        return _page(request, "ack_done.html", context)

    standing = acks.standing(incident, viewer=person)
    if standing:
        return _page(request, "ack_standing.html", {**context, "standing": standing})
    return _page(request, "ack_confirm.html", context)


# --- Inbound SMS ----------------------------------------------------------------------------------


def _from_twilio(request) -> bool:
    """Twilio signs the URL it called plus the POST fields with the account auth token. Behind a
    proxy the URL Django sees may differ from the public one, so the public base is used."""
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        # An empty token would make the HMAC key public: refuse rather than accept anything.
        return False
    url = settings.VIGIL_BASE_URL.rstrip("/") + request.get_full_path()
    return RequestValidator(token).validate(url, request.POST, signature)


def _twiml(text: str) -> HttpResponse:
    reply = MessagingResponse()
    reply.message(text)  # escapes the text
    return HttpResponse(str(reply), content_type="text/xml; charset=utf-8")


@csrf_exempt
@require_POST
def sms_inbound(request) -> HttpResponse:
    """A reply to a page: "ACK 123456" acknowledges as the person the code was sent to. Every
    answer Twilio gets is a 200 with a message for the sender, except a bad signature (403)."""
    if not _from_twilio(request):
        return HttpResponseForbidden("Invalid or missing X-Twilio-Signature.", content_type="text/plain")
    try:
        notification = acks.page_for_reply(request.POST.get("From", ""), request.POST.get("Body", ""))
        incident = acks.acknowledge_page(notification)
    except acks.AckRefused as refusal:
        return _twiml(_refusal_text(refusal))
    except DomainError as exc:
        # The code was good but the incident refused (already acknowledged, resolved).
        incident = notification.incident
        incident.refresh_from_db()
        return _twiml(acks.standing(incident, viewer=notification.recipient) or str(exc))
    person = notification.recipient
    return _twiml(f"{incident.reference} acknowledged. Thank you, {person.first_name or person}.")


def _refusal_text(refusal: acks.AckRefused) -> str:
    notification = refusal.notification
    standing = notification and acks.standing(notification.incident, viewer=notification.recipient)
    return f"{refusal} {standing}" if standing else str(refusal)
