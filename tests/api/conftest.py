"""Fixtures the API tests share."""

import pytest
from django.core.cache import cache


@pytest.fixture
def fresh_rate_windows():
    """API keys are rate limited per minute in the cache; a module that makes many keyed requests
    asks for this (`pytest.mark.usefixtures`), so no test spends another's requests. Not autouse:
    a test that points the cache at a dead Redis must not have it cleared afterwards."""
    cache.clear()
    yield
    cache.clear()
