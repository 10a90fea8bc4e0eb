"""The 403 page: an admin page someone may not open says, inside the admin's layout, which
permission is missing and who can grant it, instead of Django's bare "403 Forbidden".

`config.urls.handler403` is `forbidden`. The permission comes from the exception when the code
that refused names it (`raise PermissionDenied("incidents.command_incident")`); otherwise from
the admin URL that refused: a model's add page needs `add_<model>`, its list, history and
pages `view_<model>`, a saved change `change_<model>`, a delete page `delete_<model>`. Pages
outside the admin keep Django's plain 403 (the status page is public; the API answers JSON).
"""

from __future__ import annotations

import re

from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import Resolver404, resolve
from django.views import defaults

PERMISSION = re.compile(r"^(?P<app>\w+)\.(?P<codename>\w+)$")
# The admin's own URL names: <app>_<model>_<page>.
ADMIN_PAGE = re.compile(r"^(?P<app>\w+?)_(?P<model>[a-z0-9]+)_(?P<page>add|change|changelist|delete|history)$")
NAMES_SHOWN = 10


def forbidden(request, exception=None):
    match = _admin_match(request)
    if match is None:
        return defaults.permission_denied(request, exception)
    said = str(exception or "")
    permission = _named(said) or _from_url(request, match)
    context = {
        **admin.site.each_context(request),
        "title": "You may not open this page",
        "permission": permission,
        "reason": "" if PERMISSION.match(said) else said,
        "granters": granters(),
    }
    return TemplateResponse(request, "admin/vigil/403.html", context, status=403)


def granters() -> list[tuple[str, list[str]]]:
    """Who can give someone a permission: (group, usernames) for each group whose members may
    change users, then ("Administrators", usernames) for the superusers outside those groups."""
    User = get_user_model()
    change_user = Permission.objects.filter(
        content_type__app_label=User._meta.app_label, codename=f"change_{User._meta.model_name}"
    ).first()
    holders = User.objects.filter(is_active=True).filter(
        Q(is_superuser=True) | Q(groups__permissions=change_user) | Q(user_permissions=change_user)
    )
    by_group: dict[str, list[str]] = {}
    for user in holders.distinct().order_by("username").prefetch_related("groups__permissions"):
        groups = [g.name for g in user.groups.all() if change_user in g.permissions.all()]
        role = groups[0] if groups else ("Administrators" if user.is_superuser else "People who may change users")
        by_group.setdefault(role, []).append(user.username)
    groups_first = sorted(by_group, key=lambda role: (role == "Administrators", role))
    return [(role, by_group[role][:NAMES_SHOWN]) for role in groups_first]


def _admin_match(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_active or not user.is_staff:
        return None
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    return match if match.app_name == admin.site.name else None


def _named(said: str) -> Permission | None:
    found = PERMISSION.match(said.strip())
    if not found:
        return None
    return Permission.objects.filter(
        content_type__app_label=found["app"], codename=found["codename"]
    ).select_related("content_type").first()


def _from_url(request, match) -> Permission | None:
    page = ADMIN_PAGE.match(match.url_name or "")
    if not page:
        return None
    try:
        model = apps.get_model(page["app"], page["model"])
    except LookupError:
        return None
    verb = {"add": "add", "delete": "delete"}.get(page["page"], "view")
    if page["page"] == "change" and request.method == "POST":
        verb = "change"
    return Permission.objects.filter(
        content_type__app_label=model._meta.app_label, codename=f"{verb}_{model._meta.model_name}"
    ).select_related("content_type").first()
