"""The incident list as CSV: "Download CSV" exports what the list shows now (its filters, search and
order, every page of it) and the action "Export selected as CSV" the rows ticked; both are streamed
by `incidents.export`."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, ChangeList
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse

from .. import export, selectors


class ExportChangeList(ChangeList):
    """The list's own filters, search and ordering over the visible incidents, reading no page:
    the export reads the rows itself, in chunks."""

    def get_queryset(self, request, exclude_parameters=None):
        # Without the list's per-row extras (the last update's subquery, the page's prefetches).
        self.root_queryset = selectors.visible_incidents(request.user)
        return super().get_queryset(request, exclude_parameters)

    def get_results(self, request):
        self.result_list, self.result_count, self.full_result_count = [], 0, None
        self.show_all, self.can_show_all, self.multi_page = False, False, False


class CsvExport:
    """Mixed into IncidentAdmin: the download view (its URL in `export_urls`) and the action."""

    actions = ["export_selected"]

    def get_changelist(self, request, **kwargs):
        if getattr(request, "exporting_csv", False):
            return ExportChangeList
        return super().get_changelist(request, **kwargs)

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        request.exporting_csv = True
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:  # as the list answers a filter it does not know
            changelist_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist", current_app=self.admin_site.name)
            return HttpResponseRedirect(f"{changelist_url}?{ERROR_FLAG}=1")
        return export.response(request.user, changelist.queryset)

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_selected(self, request, queryset):
        return export.response(request.user, queryset)
