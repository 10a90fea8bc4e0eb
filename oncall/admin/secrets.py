"""Admin pages that show a new secret once (an API key, a calendar feed's URL, an integration's
key): Vigil keeps only its fingerprint, so the response that made it is the only place it appears."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, QueryDict
from django.template.response import TemplateResponse


def shown_once(model_admin: admin.ModelAdmin, request: HttpRequest, template: str, *, title: str, **context) -> TemplateResponse:
    """`template` inside the admin's frame (the site's context, the model's `opts`), with the new
    secret in `context`: rendered for this response and stored nowhere."""
    frame = {**model_admin.admin_site.each_context(request), "opts": model_admin.opts}
    return TemplateResponse(request, template, {**frame, "title": title, **context})


def add_view_shown_once(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    template: str,
    *,
    title: str,
    form: Callable[[QueryDict | None], forms.Form],
    make: Callable[[dict], dict],
) -> TemplateResponse:
    """An add page that is a form until it validates, then the same page showing what
    `make(cleaned_data)` made: its context carries the secret and the page's new title."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    bound = form(request.POST if request.method == "POST" else None)
    made = make(bound.cleaned_data) if request.method == "POST" and bound.is_valid() else {}
    return shown_once(model_admin, request, template, **{"title": title, "form": bound, **made})
