"""Scheduled reports in the admin: subscriptions (Managers add and change them; anyone else sees
only those they own), a preview of any period rendered exactly as sent, "Send now" (to every
recipient, or to me only) outside the ledger of scheduled periods, the CSV of a report's tables,
and the ledger of runs, read-only."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db.models import Max
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from incidents.permissions import VIEW_RESTRICTED
from oncall.formatting import local
from oncall.models import User

from ..models import ReportRun, ReportSubscription
from ..reports import schedule, sections, sending
from ..reports.render import as_csv, render, viewer_for


class ReportSubscriptionForm(forms.ModelForm):
    sections = forms.MultipleChoiceField(
        choices=sections.choices, widget=forms.CheckboxSelectMultiple, initial=sections.DEFAULT_SECTIONS,
        help_text="In this order in the report.",
    )

    class Meta:
        model = ReportSubscription
        fields = "__all__"

    def clean_addresses(self) -> str:
        bad = []
        for address in [line.strip() for line in self.cleaned_data["addresses"].splitlines() if line.strip()]:
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValidationError(f"Not email addresses: {', '.join(bad)}.")
        return self.cleaned_data["addresses"]

    def clean(self):
        data = super().clean()
        if data.get("team") and data.get("services"):
            raise ValidationError("Choose one team or some services, not both (neither: all incidents).")
        if data.get("sections"):
            order = [key for key in sections.SECTIONS if key in data["sections"]]
            data["sections"] = order
        if data.get("name_restricted"):
            blocked = restricted_blockers(data)
            if blocked:
                self.add_error(
                    "name_restricted",
                    "Only when every recipient may see restricted incidents; these may not: " + ", ".join(blocked) + ".",
                )
        if not any(data.get(field) for field in ("users", "user_groups", "stakeholder_groups", "addresses")):
            raise ValidationError("Name at least one recipient: users, groups, stakeholder groups or addresses.")
        return data


def restricted_blockers(data: dict) -> list[str]:
    """Recipients who may not see restricted incidents (plain and outside addresses never may)."""
    blocked = []
    people = list(data.get("users") or [])
    groups = data.get("user_groups")
    if groups:
        people += list(User.objects.filter(is_active=True, groups__in=groups).distinct())
    for group in data.get("stakeholder_groups") or []:
        people += [m for m in group.members.all() if m.is_active]
        blocked += group.external_list()
    for person in {p.pk: p for p in people}.values():
        if not person.has_perm(VIEW_RESTRICTED):
            blocked.append(str(person))
    blocked += [line.strip() for line in (data.get("addresses") or "").splitlines() if line.strip()]
    return blocked


class PreviewForm(forms.Form):
    period = forms.DateField(help_text="A day of the period (YYYY-MM-DD): its day, Monday–Sunday week or month.")


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(admin.ModelAdmin):
    form = ReportSubscriptionForm
    list_display = ("name", "when", "owner", "is_active", "last_sent", "preview")
    list_filter = ("frequency", "is_active")
    list_select_related = ("owner",)
    search_fields = ("name",)
    filter_horizontal = ("users", "user_groups", "stakeholder_groups", "services")
    autocomplete_fields = ()
    actions = ["send_now_to_all", "send_now_to_me"]
    fieldsets = (
        (None, {"fields": ("name", "owner", "is_active")}),
        ("Recipients", {"fields": ("users", "user_groups", "stakeholder_groups", "addresses", "name_restricted")}),
        ("When", {"fields": ("frequency", "weekday", "day_of_month", "send_time", "time_zone")}),
        ("What", {"fields": ("team", "services", "sections")}),
    )

    def get_queryset(self, request):
        qs = super().get_queryset(request).annotate(last_sent_at=Max("runs__sent_at"))
        if request.user.has_perm("comms.change_reportsubscription"):
            return qs
        return qs.filter(owner=request.user)

    def get_changeform_initial_data(self, request):
        return {"owner": request.user.pk, **super().get_changeform_initial_data(request)}

    @admin.display(description="When")
    def when(self, obj):
        run = schedule.next_run(schedule.cadence_of(obj), timezone.now())
        return f"{obj.get_frequency_display().split(' (')[0]}; next {local(run.send_at, '%a %d %b %Y %H:%M', schedule.cadence_of(obj).zone)} ({obj.zone_name})"

    @admin.display(description="Last sent")
    def last_sent(self, obj):
        return local(obj.last_sent_at, "%a %d %b %Y %H:%M") if obj.last_sent_at else "—"

    @admin.display(description="Preview")
    def preview(self, obj):
        return format_html('<a href="{}">Preview, send now, CSV</a>', reverse("admin:comms_reportsubscription_preview", args=[obj.pk]))

    # --- preview, send now, CSV ---

    def get_urls(self):
        return [
            path("<path:object_id>/preview/", self.admin_site.admin_view(self.preview_view), name="comms_reportsubscription_preview"),
            *super().get_urls(),
        ]

    def _period(self, subscription, day: dt.date | None):
        cadence = schedule.cadence_of(subscription)
        if day is None:
            run = schedule.latest_due(cadence, timezone.now())
            return run.start, run.end
        return schedule.period_starting(cadence, day)

    def preview_view(self, request, object_id):
        subscription = self.get_object(request, unquote(object_id))
        if subscription is None:
            raise Http404
        if not self.has_view_permission(request, subscription):
            raise PermissionDenied
        form = PreviewForm(request.GET or request.POST or None)
        day = form.cleaned_data["period"] if form.is_bound and form.is_valid() else None
        start, end = self._period(subscription, day)
        if request.method == "POST":
            only_to_me = request.POST.get("to") != "all"
            if not only_to_me and not self.has_change_permission(request, subscription):
                raise PermissionDenied
            run = sending.send_now(subscription, start, end, requested_by=request.user, only_to_me=only_to_me)
            self.message_user(request, _sent_text(run), messages.SUCCESS if run.status == ReportRun.Status.SENT else messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        report = render(subscription, start, end, viewer_for(subscription, request.user))
        if request.GET.get("format") == "csv":
            response = HttpResponse(as_csv(report), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="report-{subscription.pk}-{start.astimezone(schedule.cadence_of(subscription).zone):%Y-%m-%d}.csv"'
            return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Preview · {subscription.name}",
            "subtitle": report.period_text,
            "subscription": subscription,
            "report": report,
            "form": form if form.is_bound else PreviewForm(initial={"period": start.astimezone(schedule.cadence_of(subscription).zone).date()}),
            "may_send_all": self.has_change_permission(request, subscription),
            "csv_url": reverse("admin:comms_reportsubscription_preview", args=[subscription.pk])
            + f"?period={start.astimezone(schedule.cadence_of(subscription).zone):%Y-%m-%d}&format=csv",
        }
        return TemplateResponse(request, "admin/comms/reportsubscription/preview.html", context)

    def _send_selected(self, request, queryset, *, only_to_me: bool):
        for subscription in queryset:
            start, end = self._period(subscription, None)
            run = sending.send_now(subscription, start, end, requested_by=request.user, only_to_me=only_to_me)
            self.message_user(request, f"{subscription.name}: {_sent_text(run)}", messages.SUCCESS if run.status == ReportRun.Status.SENT else messages.ERROR)

    @admin.action(description="Send now to every recipient (the latest period; the schedule is not touched)", permissions=["change"])
    def send_now_to_all(self, request, queryset):
        self._send_selected(request, queryset, only_to_me=False)

    @admin.action(description="Send now to me only (the latest period)", permissions=["view"])
    def send_now_to_me(self, request, queryset):
        self._send_selected(request, queryset, only_to_me=True)


def _sent_text(run: ReportRun) -> str:
    if run.status == ReportRun.Status.FAILED:
        return f"the report could not be made: {run.error}"
    if not run.notifications:
        return "nobody to send it to (no email address)."
    return f"{run.notifications} message{'s' * (run.notifications != 1)} queued for {run.period_start:%Y-%m-%d}."


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    list_display = ("subscription", "period_start", "period_end", "manual", "status", "sent_at", "notifications")
    list_filter = ("status", "manual")
    list_select_related = ("subscription",)
    show_full_result_count = False
    readonly_fields = [f.name for f in ReportRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
