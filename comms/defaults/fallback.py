"""The order in which cells are tried when a message's own cell has no words: another kind,
then another audience, keeping the channel as long as possible."""

from __future__ import annotations

from collections.abc import Iterator

from ..models import Audience as A, Channel as C, MessageKind as K
from .pieces import Cell

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
    K.SHIFT_COVER.value: [],
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
