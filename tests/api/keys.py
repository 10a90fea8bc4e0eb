"""API keys as a client presents them: the request headers for a key, or for a new key of a user's."""

from oncall.models import ApiKey, User
from tests.oncall.factories import ApiKeyFactory


def bearer(key: ApiKey | str) -> dict[str, str]:
    """The Authorization header for a factory-made key (its `.secret`) or for a secret itself."""
    return {"HTTP_AUTHORIZATION": f"Bearer {getattr(key, 'secret', key)}"}


def auth(user: User, *scopes: str) -> dict[str, str]:
    """The headers of a new key owned by `user`, with these scopes (read and write when none is named)."""
    return bearer(ApiKeyFactory(owner=user, scopes=list(scopes or ["read", "write"])))
