"""The list filter every app's admin builds its own from: a few named choices, each a label and
how it narrows the rows. In `oncall`, the lowest layer, so the incident and post-mortem lists use it
too."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

# How one choice narrows the list; the request is there for choices that depend on who is asking.
Narrowing = Callable[[QuerySet, HttpRequest], QuerySet]


class ChoiceFilter(admin.SimpleListFilter):
    """A filter whose choices are `options`: value in the URL → (label, narrowing).

    Subclasses set `title`, `parameter_name` and `options` (`choices` is Django's own method). No
    choice, or one the filter does not know, keeps every row, as Django's own filters do."""

    options: ClassVar[dict[str, tuple[str, Narrowing]]] = {}

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _) in self.options.items()]

    def queryset(self, request, queryset):
        choice = self.options.get(self.value())
        return queryset if choice is None else choice[1](queryset, request)
