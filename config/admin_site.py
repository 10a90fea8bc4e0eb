"""Vigil's admin site: Django's own, with every model page titled in Vigil's words.

Django titles a list "Select schedule to change" (or "… to view") and a page "Change schedule";
Vigil says "Schedules", "Schedule" and "New schedule". One hook does it for every registered
ModelAdmin, present and future: each admin view's page gets its stock title replaced before it
renders. A page that sets its own title ("Incidents", "INC-12", "Declare incident") keeps it.

The home page is the operator dashboard, with its JSON at `dashboard/open.json`; the figures in
full are at `metrics/`.
"""

from __future__ import annotations

from functools import update_wrapper

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from django.utils.translation import gettext as _


def vigil_title(context: dict) -> None:
    """Replace Django's stock title of a model's list, add, change or view page in `context`."""
    opts, title = context.get("opts"), context.get("title")
    if opts is None or not title:
        return
    name, plural = opts.verbose_name, opts.verbose_name_plural
    ours = {
        _("Select %s to change") % name: capfirst(plural),
        _("Select %s to view") % name: capfirst(plural),
        _("Select %s") % name: capfirst(plural),  # the list as a pop-up picker
        _("Add %s") % name: f"New {name}",
        _("Change %s") % name: capfirst(name),  # the object itself is the subtitle under it
        _("View %s") % name: capfirst(name),
    }.get(str(title))
    if ours is not None:
        context["title"] = ours


class VigilAdminSite(AdminSite):
    # The home page is the operator dashboard (comms/admin/dashboard.py); the list of every page
    # stays on it, below.
    index_template = "admin/vigil_index.html"

    def index(self, request, extra_context=None):
        from comms.admin import dashboard

        return super().index(request, {**dashboard.index_context(request), **(extra_context or {})})

    def get_urls(self):
        from django.urls import path

        from comms.admin import dashboard, metrics

        ours = [
            path("dashboard/open.json", self.admin_view(dashboard.open_json), name="dashboard-open"),
            path("metrics/", self.admin_view(metrics.metrics_view), name="metrics"),
        ]
        return ours + super().get_urls()

    def admin_view(self, view, cacheable=False):
        def titled(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if isinstance(response, TemplateResponse) and response.context_data:
                vigil_title(response.context_data)
            return response

        return super().admin_view(update_wrapper(titled, view), cacheable)


class VigilAdminConfig(AdminConfig):
    """`django.contrib.admin` with Vigil's site as `admin.site` (INSTALLED_APPS names this)."""

    default_site = "config.admin_site.VigilAdminSite"
