"""The war room: posts a message in the incident's own chat channel through the connected
provider (`comms.warroom.providers`). Delivery only hands it rows whose room is open; a room
archived or a workspace disconnected since is a permanent failure, a provider error keeps its
own transience (timeouts, 5xx and rate limits are retried with backoff)."""

from __future__ import annotations

from ..models import WarRoom
from . import Backend, DeliveryError, Message


class WarRoomBackend(Backend):
    channel = "war_room"

    def open(self) -> None:
        from ..warroom.providers import connected

        self.provider = connected()

    def send(self, message: Message) -> str:
        from ..warroom.providers import ChatProviderError

        if self.provider is None:
            raise DeliveryError("No chat workspace is connected any more.", transient=False)
        room = (
            WarRoom.objects.filter(incident__notifications=message.notification_id, state=WarRoom.State.OPEN)
            .values_list("channel_id", flat=True)
            .first()
        )
        if not room:
            raise DeliveryError("The incident's war room is not open.", transient=False)
        try:
            return self.provider.post(room, message.body)
        except ChatProviderError as exc:
            raise DeliveryError(f"{self.provider.name}: {exc.message}", transient=exc.transient) from exc

