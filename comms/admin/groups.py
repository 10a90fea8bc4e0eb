"""The stakeholder groups' admin: who hears which kinds of message about which severities."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Prefetch

from incidents.formatting import EMPTY
from incidents.models import SeverityLevel

from .. import forms
from ..models import StakeholderGroup, Subscription


@admin.register(StakeholderGroup)
class StakeholderGroupAdmin(admin.ModelAdmin):
    form = forms.StakeholderGroupForm
    list_display = ("name", "audience", "severity_names", "subscription_names", "member_count", "external_count", "is_active")
    list_filter = ("audience", "is_active")
    search_fields = ("name", "description")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("members",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_members=Count("members", distinct=True))
            .prefetch_related(Prefetch("severities", queryset=SeverityLevel.objects.order_by("rank")))
        )

    @admin.display(description="Severities")
    def severity_names(self, group):
        return ", ".join(severity.name for severity in group.severities.all()) or EMPTY

    @admin.display(description="Receives")
    def subscription_names(self, group):
        labels = dict(Subscription.choices)
        return ", ".join(str(labels.get(value, value)) for value in group.subscriptions or []) or EMPTY

    @admin.display(description="Members", ordering="_members")
    def member_count(self, group):
        return group._members

    @admin.display(description="Outside addresses")
    def external_count(self, group):
        return len(group.external_list())
