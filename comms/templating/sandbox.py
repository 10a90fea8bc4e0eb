"""The locked-down template engine message templates run on: no loaders, no `{% load %}`, an
allow-list of tags and filters, no loop inside a loop and a cap on the text's size — so an
operator's template can reach no model, method, file or other template, nor turn a short text
into an enormous output. Every value it renders is a plain string, or a read-only list of entries
of plain strings (`variables.Entries`: the participants), from `values.py`."""

from __future__ import annotations

import functools

from django.template import Context, Engine, Library, TemplateSyntaxError
from django.template.base import Lexer, TokenType

from .variables import sample_context

MAX_SOURCE = 20_000  # characters of template text

# What a template may use. Everything that reaches outside the template (include, extends,
# load, debug, url, csrf_token) is left out, and so is everything that can turn a short
# template into an enormous output (lorem, center/ljust/rjust, stringformat, floatformat).
ALLOWED_TAGS = frozenset(
    {
        "autoescape", "comment", "cycle", "filter", "firstof", "for", "if", "ifchanged", "now",
        "regroup", "resetcycle", "spaceless", "templatetag", "verbatim", "widthratio", "with",
    }
)
ALLOWED_FILTERS = frozenset(
    {
        "add", "addslashes", "capfirst", "cut", "date", "default", "default_if_none", "divisibleby",
        "escape", "escapejs", "escapeseq", "filesizeformat", "first", "force_escape", "iriencode", "join",
        "last", "length", "linebreaks", "linebreaksbr", "linenumbers", "lower", "make_list", "phone2numeric",
        "pluralize", "random", "safe", "safeseq", "slice", "slugify", "striptags", "time", "title",
        "truncatechars", "truncatechars_html", "truncatewords", "truncatewords_html", "upper", "urlencode",
        "urlize", "urlizetrunc", "wordcount", "wordwrap", "yesno",
    }
)
# Named in the refusal, so the operator learns why rather than "invalid block tag".
REACHING_OUT = frozenset({"load", "include", "extends", "ssi", "debug", "block", "url", "csrf_token", "querystring"})
MAX_LOOP_DEPTH = 1  # every value is a string or a list of flat entries: one loop is all a message needs


@functools.cache
def _engine() -> Engine:
    engine = Engine(loaders=[], libraries={}, autoescape=False, string_if_invalid="")
    library = Library()
    for builtin in engine.template_builtins:
        library.tags.update({name: tag for name, tag in builtin.tags.items() if name in ALLOWED_TAGS})
        library.filters.update({name: fn for name, fn in builtin.filters.items() if name in ALLOWED_FILTERS})
    engine.template_builtins = [library]
    return engine


def _scan(source: str, what: str) -> list[str]:
    """Refusals a parse would not explain well: tags that reach outside, loops in loops, size."""
    problems = []
    if len(source) > MAX_SOURCE:
        problems.append(f"{what}: {len(source):,} characters; a template may have at most {MAX_SOURCE:,}.")
    depth = 0
    for token in Lexer(source).tokenize():
        if token.token_type != TokenType.BLOCK or not token.contents.strip():
            continue
        name = token.split_contents()[0]
        if name in REACHING_OUT:
            problems.append(
                f"{what}, line {token.lineno}: {{% {name} %}} is not allowed — message templates cannot "
                "load tag libraries or reach other templates."
            )
        elif name == "for":
            depth += 1
            if depth > MAX_LOOP_DEPTH:
                problems.append(f"{what}, line {token.lineno}: a loop inside a loop is not allowed.")
        elif name == "endfor":
            depth = max(0, depth - 1)
    return problems


def compile_template(source: str):
    """A compiled template, or TemplateSyntaxError (unknown tag or filter, bad syntax, refused tag)."""
    problems = _scan(source, "Template")
    if problems:
        raise TemplateSyntaxError(problems[0])
    return _engine().from_string(source)


def template_errors(source: str, what: str = "Template") -> list[str]:
    """Why `source` cannot be used as a message template (empty when it can)."""
    problems = _scan(source, what)
    if problems:
        return problems
    try:
        template = _engine().from_string(source)
    except TemplateSyntaxError as error:
        return [f"{what}: {error}"]
    try:
        template.render(Context(sample_context(), autoescape=False))
    except Exception as error:  # anything a render can raise refuses the template
        return [f"{what} does not render: {type(error).__name__}: {error}"]
    return []
