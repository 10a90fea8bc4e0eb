"""Which chat workspace war rooms open in: the admin's "Chat workspace" row when there is one,
else the settings (VIGIL_CHAT_PROVIDER, VIGIL_SLACK_*, VIGIL_MATTERMOST_*, VIGIL_WAR_ROOM_*)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Workspace:
    provider: str  # none | slack | mattermost
    token: str
    slack_api_url: str
    workspace_url: str
    mattermost_url: str
    mattermost_team_id: str
    mattermost_team_name: str
    name_template: str
    archive_on_close: bool
    timeout: float


def current() -> Workspace:
    """The workspace in force now (one query: the admin's row, if any)."""
    from ..models import ChatWorkspace

    row = ChatWorkspace.objects.first()
    if row is not None:
        return Workspace(
            provider=row.provider,
            token=row.bot_token,
            slack_api_url=row.slack_api_url or settings.VIGIL_SLACK_API_URL,
            workspace_url=row.workspace_url,
            mattermost_url=row.mattermost_url,
            mattermost_team_id=row.mattermost_team_id,
            mattermost_team_name=row.mattermost_team_name,
            name_template=row.channel_name_template,
            archive_on_close=row.archive_on_close,
            timeout=settings.VIGIL_WAR_ROOM_TIMEOUT_SECONDS,
        )
    return Workspace(
        provider=settings.VIGIL_CHAT_PROVIDER,
        token=settings.VIGIL_SLACK_BOT_TOKEN if settings.VIGIL_CHAT_PROVIDER == "slack" else settings.VIGIL_MATTERMOST_TOKEN,
        slack_api_url=settings.VIGIL_SLACK_API_URL,
        workspace_url=settings.VIGIL_SLACK_WORKSPACE_URL,
        mattermost_url=settings.VIGIL_MATTERMOST_URL,
        mattermost_team_id=settings.VIGIL_MATTERMOST_TEAM_ID,
        mattermost_team_name=settings.VIGIL_MATTERMOST_TEAM_NAME,
        name_template=settings.VIGIL_WAR_ROOM_CHANNEL_NAME,
        archive_on_close=settings.VIGIL_WAR_ROOM_ARCHIVE_ON_CLOSE,
        timeout=settings.VIGIL_WAR_ROOM_TIMEOUT_SECONDS,
    )
