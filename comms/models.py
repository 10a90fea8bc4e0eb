"""Reaching people: contact methods, templates, the outbox (built in a later issue)."""
