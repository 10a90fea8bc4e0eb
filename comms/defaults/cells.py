"""Which shipped words fill which cell of kind × audience × channel: `DEFAULTS`, the table the
data migrations copied into `MessageTemplate` rows and `templating.Renderer` falls back to."""

from __future__ import annotations

from ..models import Audience as A, Channel as C, MessageKind as K
from . import customers, executives, responders, restricted
from .pieces import Cell


def _cells() -> dict[Cell, tuple[str, str]]:
    """Each audience's words in the cells they fill; a cell left out borrows through `fallback.candidates`."""
    cells: dict[Cell, tuple[str, str]] = {}

    def put(kind, audiences, email=None, sms=None, chat=None):
        for audience in audiences:
            for channel, text in ((C.EMAIL, email), (C.SMS, sms), (C.CHAT, chat)):
                if text is not None:
                    cells[(kind.value, audience.value, channel.value)] = text

    put(K.DECLARED, [A.RESPONDERS], responders.DECLARED_EMAIL, responders.DECLARED_SMS, responders.DECLARED_CHAT)
    put(K.DECLARED, [A.INTERNAL], responders.DECLARED_EMAIL, chat=responders.DECLARED_CHAT)
    put(K.DECLARED, [A.EXECUTIVES], executives.DECLARED_EMAIL)
    put(K.STATUS_UPDATE, [A.RESPONDERS], responders.STATUS_UPDATE_EMAIL, responders.STATUS_UPDATE_SMS, responders.STATUS_UPDATE_CHAT)
    put(K.STATUS_UPDATE, [A.INTERNAL], responders.STATUS_UPDATE_EMAIL, chat=responders.STATUS_UPDATE_CHAT)
    put(K.STATUS_UPDATE, [A.EXECUTIVES], executives.STATUS_UPDATE_EMAIL)
    put(K.PAGE, [A.RESPONDERS], responders.PAGE_EMAIL, responders.PAGE_SMS, responders.PAGE_CHAT)
    put(K.UPDATE_OVERDUE, [A.RESPONDERS], responders.UPDATE_OVERDUE_EMAIL, responders.UPDATE_OVERDUE_SMS, responders.UPDATE_OVERDUE_CHAT)
    put(K.ACKNOWLEDGED, [A.RESPONDERS], responders.ACKNOWLEDGED_EMAIL, responders.ACKNOWLEDGED_SMS, responders.ACKNOWLEDGED_CHAT)
    put(K.RESOLUTION, [A.RESPONDERS], responders.RESOLUTION_EMAIL, responders.RESOLUTION_SMS, responders.RESOLUTION_CHAT)
    put(K.RESOLUTION, [A.INTERNAL], responders.RESOLUTION_EMAIL, chat=responders.RESOLUTION_CHAT)
    put(K.RESOLUTION, [A.EXECUTIVES], executives.RESOLUTION_EMAIL)
    put(K.RESOLUTION, [A.CUSTOMERS], customers.RESOLUTION_EMAIL, customers.RESOLUTION_SMS)
    put(K.EXECUTIVE_SUMMARY, [A.EXECUTIVES], executives.SUMMARY_EMAIL)
    put(K.CUSTOMER_NOTICE, [A.CUSTOMERS], customers.NOTICE_EMAIL, customers.NOTICE_SMS)
    put(K.POSTMORTEM_REMINDER, [A.RESPONDERS], responders.POSTMORTEM_EMAIL, responders.POSTMORTEM_SMS, responders.POSTMORTEM_CHAT)
    put(K.REOPENED, [A.RESPONDERS], responders.REOPENED_EMAIL, responders.REOPENED_SMS, responders.REOPENED_CHAT)
    put(K.REOPENED, [A.INTERNAL], responders.REOPENED_EMAIL, chat=responders.REOPENED_CHAT)
    put(K.REOPENED, [A.EXECUTIVES], executives.REOPENED_EMAIL)
    put(K.REOPENED, [A.CUSTOMERS], customers.REOPENED_EMAIL, customers.REOPENED_SMS)
    # Told at once by email and chat, never by SMS (SMS is kept for pages).
    put(K.ESCALATION_INFO, [A.RESPONDERS], responders.ESCALATION_INFO_EMAIL, chat=responders.ESCALATION_INFO_CHAT)
    put(
        K.STATUS_PAGE_OVERDUE, [A.RESPONDERS],
        responders.STATUS_PAGE_OVERDUE_EMAIL, responders.STATUS_PAGE_OVERDUE_SMS, responders.STATUS_PAGE_OVERDUE_CHAT,
    )
    # A restricted incident's participants: every kind that can reach them, by email and chat;
    # pages by SMS too (other kinds on SMS borrow the restricted email words).
    put(K.PAGE, [A.RESTRICTED], restricted.PAGE_EMAIL, restricted.PAGE_SMS, restricted.PAGE_CHAT)
    for kind, (email, chat) in restricted.BY_KIND.items():
        put(kind, [A.RESTRICTED], email, chat=chat)
    # Reports go to whoever a report names; executives fall back to these (responders' cell)
    # rather than having a cell of their own.
    put(K.REPORT, [A.RESPONDERS], responders.REPORT_EMAIL, chat=responders.REPORT_CHAT)
    return cells


DEFAULTS: dict[Cell, tuple[str, str]] = _cells()
