"""The incident page's Close card: the button only when closing can succeed, else when it can."""

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
import time_machine

from incidents import actions
from incidents.models import Source
from tests.incidents.factories import IncidentFactory, publish_postmortem
from tests.incidents.test_admin import operate, operation_card, page_url, text_of_html
from tests.pages import messages_of

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 6, 14, 0, tzinfo=dt_timezone.utc)  # a Sunday


def test_close_is_offered_only_when_closing_can_succeed(as_user, commander, sev1):
    client = as_user(commander)
    with time_machine.travel(NOW, tick=False) as traveller:
        incident = IncidentFactory(actor=commander, commander=commander, severity=sev1, acknowledged=True)
        actions.resolve(incident, actor=commander, source=Source.ADMIN, summary="Rolled back")
        card = operation_card(client.get(page_url(incident)), "close")
        # SEV-1 is watched for 24 h after resolution.
        assert text_of_html(card) == "Close Can be closed from Mon 07 Dec 14:00 (observation period)."
        assert 'type="submit"' not in card

        traveller.shift(timedelta(hours=24))
        card = operation_card(client.get(page_url(incident)), "close")
        assert "post-mortem" in text_of_html(card).lower() and 'type="submit"' not in card  # its own guard says why

        publish_postmortem(incident)
        card = operation_card(client.get(page_url(incident)), "close")
        assert text_of_html(card) == "Close" and 'type="submit" value="Close"' in card
        assert messages_of(operate(client, incident, "close")) == [f"{incident.reference} closed."]
