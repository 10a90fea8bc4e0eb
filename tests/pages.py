"""What a person reads on a page the test client fetched: its text, and the messages shown with it."""

import re
from html import unescape

from django.contrib.messages import get_messages


def text_of(response) -> str:
    """The page as a person reads it: scripts and styles dropped, tags stripped, whitespace collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def messages_of(response) -> list[str]:
    """The messages shown with this response (or, for a redirect not followed, queued for the next page)."""
    storage = response.context["messages"] if response.context and "messages" in response.context else get_messages(response.wsgi_request)
    return [str(m) for m in storage]
