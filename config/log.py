"""Logging filters (config/settings.py LOGGING)."""

import logging


class ForbiddenWithoutTraceback(logging.Filter):
    """A 403 is someone opening a page they may not: one warning line says so. Django logs it
    with the PermissionDenied's traceback, which only says where the refusal was raised."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
