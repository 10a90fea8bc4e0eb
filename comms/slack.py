"""Slack's mrkdwn escaping, both ways: the one definition every chat text goes through.

Slack reads only `&`, `<` and `>` as markup (`<!channel>`, `<@U024BE7LH>`, `<url|label>`), so
those three are all that must become entities for user text to stay literal.
"""

from __future__ import annotations


def escape(text: object) -> str:
    """User-supplied text made literal for Slack: `<!channel>` stays text, not a mention."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Slack sends `&`, `<` and `>` typed by people as entities (real `<` only wrap mentions)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def code(text: object) -> str:
    """User text shown inside inline code (`…`): escaped, with the backticks it carries made
    quotes, since mrkdwn has no way to put a backtick inside one."""
    return escape(text).replace("`", "'")
