"""Fixtures the API tests share: `fresh_rate_windows` is in tests/conftest.py (other modules make
keyed requests too)."""
