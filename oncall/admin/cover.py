"""Admin for shift cover requests: ask for cover of your shift (or, as a manager, of anyone's),
see what is waiting with the gap it would leave, and accept, decline or cancel — every write
through `oncall.cover`, whose rules decide who may do what."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path
from django.utils import timezone

from .. import cover
from ..cover_models import CoverRequest
from ..errors import CoverRefused
from ..models import User
from .display import admin_url, local, warning, window_text


class CoverRequestForm(forms.ModelForm):
    class Meta:
        model = CoverRequest
        fields = ["schedule", "user", "start", "end", "asked", "reason", "expires_at"]
        labels = {"user": "Whose shift", "asked": "Ask", "expires_at": "Expires"}
        help_texts = {
            "start": "In your time zone. A shift under way is offered from now.",
            "asked": "A colleague on this schedule; leave empty to ask everyone on it.",
            "expires_at": "Optional: by default the shift's start (the window's end if it is under way).",
        }

    def __init__(self, *args, requester: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.requester = requester
        if "expires_at" in self.fields:  # a request's own page is read-only: no fields at all
            self.fields["expires_at"].required = False
        if "user" in self.fields and not requester.has_perm("oncall.add_override"):
            self.fields["user"].queryset = User.objects.filter(pk=requester.pk)

    def clean(self):
        data = super().clean()
        if all(data.get(name) for name in ("schedule", "user", "start", "end")):
            errors = cover.request_errors(
                data["schedule"], user=data["user"], start=data["start"], end=data["end"], asked=data.get("asked"),
                expires_at=data.get("expires_at"), by=self.requester, now=timezone.now(),
            )
            for field, message in errors.items():
                self.add_error(field, message)
        return data


@admin.register(CoverRequest)
class CoverRequestAdmin(admin.ModelAdmin):
    form = CoverRequestForm
    list_display = ("user", "schedule", "window", "whom", "state", "if_nobody_takes_it")
    list_select_related = ("user", "schedule", "asked", "answered_by")
    list_filter = ("status", "schedule")
    autocomplete_fields = ("user", "asked")
    change_form_template = "admin/oncall/coverrequest/change_form.html"
    readonly_fields = ("override",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class WithRequester(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, requester=request.user, **kw)

        return WithRequester

    def get_fields(self, request, obj=None):
        fields = ["schedule", "user", "start", "end", "asked", "reason", "expires_at"]
        return fields if obj is None else [*fields, "status", "answered_by", "answered_at", "override"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.has_perm("oncall.change_coverrequest"):
            return queryset
        me = request.user
        return queryset.filter(
            Q(user=me) | Q(asked=me) | Q(created_by=me) | Q(asked=None, schedule__layers__members__user=me)
        ).distinct()

    def has_change_permission(self, request, obj=None):
        return False  # answered with the buttons on its page, never edited

    def get_changeform_initial_data(self, request):
        """Pre-filled from "Ask for cover" on a schedule's row: the schedule, the window and me."""
        from .. import forms as oncall_forms

        initial = {"user": request.user.pk}
        if "schedule" in request.GET:
            initial["schedule"] = request.GET["schedule"]
        start, end = oncall_forms.parse_instant(request.GET.get("start")), oncall_forms.parse_instant(request.GET.get("end"))
        if start and end and end > start:
            initial.update(start=start, end=end)
        return initial

    @admin.display(description="Window")
    def window(self, obj: CoverRequest) -> str:
        return window_text(obj.start, obj.end)

    @admin.display(description="Asked")
    def whom(self, obj: CoverRequest) -> str:
        return str(obj.asked) if obj.asked_id else "anyone on the schedule"

    @admin.display(description="State")
    def state(self, obj: CoverRequest) -> str:
        if obj.status == CoverRequest.Status.PENDING and timezone.now() >= obj.expires_at:
            return f"expired {local(obj.expires_at)}"
        by = f" by {obj.answered_by}" if obj.answered_by_id else ""
        return f"{obj.get_status_display()}{by}" if obj.status != CoverRequest.Status.PENDING else f"waiting until {local(obj.expires_at)}"

    @admin.display(description="If nobody takes it")
    def if_nobody_takes_it(self, obj: CoverRequest):
        text = cover.gap_warning(obj)
        return warning(text) if text else "—"

    def save_model(self, request, obj, form, change):
        made = cover.request_cover(
            obj.schedule, user=obj.user, start=obj.start, end=obj.end, asked=obj.asked, reason=obj.reason,
            expires_at=form.cleaned_data.get("expires_at"), created_by=request.user,
        )
        obj.pk, obj.start, obj.expires_at, obj.created_at = made.pk, made.start, made.expires_at, made.created_at
        obj._state.adding, obj._state.db = False, made._state.db

    def response_add(self, request, obj, post_url_continue=None):
        whom = obj.asked if obj.asked_id else f"everyone on {obj.schedule}"
        messages.success(request, f"Cover asked of {whom} for {window_text(obj.start, obj.end)}. {cover.gap_warning(obj)}")
        return HttpResponseRedirect(admin_url("oncall_coverrequest_change", obj.pk))

    # --- Answering ---

    def get_urls(self):
        answer = self.admin_site.admin_view(self.answer_view)
        return [path("<int:pk>/answer/<str:how>/", answer, name="oncall_coverrequest_answer"), *super().get_urls()]

    def answer_view(self, request, pk: int, how: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        verbs = {"accept": cover.accept, "decline": cover.decline, "cancel": cover.cancel}
        if how not in verbs or not self.get_queryset(request).filter(pk=pk).exists():
            return HttpResponseRedirect(admin_url("oncall_coverrequest_changelist"))
        try:
            verbs[how](pk, by=request.user)
        except CoverRefused as refused:
            messages.error(request, str(refused))
        else:
            done = {"accept": "You are on call for this window now", "decline": "Declined", "cancel": "Cancelled"}[how]
            messages.success(request, f"{done}; everyone concerned has been told." if how != "cancel" else f"{done}.")
        return HttpResponseRedirect(admin_url("oncall_coverrequest_change", pk))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            now, me = timezone.now(), request.user
            open_ = obj.is_open(now)
            context.update(
                gap_warning=cover.gap_warning(obj, now),
                may_accept=open_ and cover.may_answer(obj, me),
                may_decline=open_ and obj.asked_id == me.pk,
                may_cancel=obj.status == CoverRequest.Status.PENDING and (me.pk in (obj.user_id, obj.created_by_id) or me.has_perm("oncall.add_override")),
                accept_url=admin_url("oncall_coverrequest_answer", obj.pk, "accept"),
                decline_url=admin_url("oncall_coverrequest_answer", obj.pk, "decline"),
                cancel_url=admin_url("oncall_coverrequest_answer", obj.pk, "cancel"),
                refusal="" if open_ else _why_closed(obj, now),
            )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


def _why_closed(obj: CoverRequest, now) -> str:
    try:
        cover.check_open(obj, now)
    except CoverRefused as refused:
        return str(refused)
    return ""
