"""Management commands as an operator runs them, read back as what they printed."""

import io

from django.core.management import call_command


def run_command(name: str, *args: str, **options) -> str:
    """What `manage.py <name> <args>` printed on standard output."""
    out = io.StringIO()
    call_command(name, *args, stdout=out, **options)
    return out.getvalue()
