"""The comms admin: message templates (validated on save, previewed against a real incident),
stakeholder groups, people's contact methods and notification rules, and the outbox.

Contact methods and rules are personal: without `comms.change_contactmethod` (or
`change_notificationrule`) a person sees and edits only their own, and the owner is always
the signed-in user. Notifications are written only by the outbox, so the admin shows them
read-only; the one thing done to them here is the "Resend" action, one call to `outbox.resend`.
"""

from __future__ import annotations


from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.db.models import Count, Prefetch, Q
from django.template.defaultfilters import truncatechars
from django.utils.html import format_html

from incidents.formatting import EMPTY, MINUTE, badge, duration, local
from incidents.models import Incident, SeverityLevel, TimelineEvent
from incidents.permissions import VIEW_RESTRICTED
from incidents.selectors import visible_incidents

from . import defaults, forms, sms, templating
from .models import (
    Channel,
    ContactMethod,
    MessageKind,
    MessageTemplate,
    Notification,
    NotificationRule,
    StakeholderGroup,
    Subscription,
)


STATUS_COLORS = {
    Notification.Status.PENDING: "#1565c0",
    Notification.Status.SENT: "#2e7d32",
    Notification.Status.FAILED: "#c62828",
    Notification.Status.SUPPRESSED: "#757575",
}

# The timeline events a preview of each kind of message is rendered for (latest first).
PREVIEW_EVENTS = {
    MessageKind.DECLARED: [TimelineEvent.Kind.DECLARED],
    MessageKind.STATUS_UPDATE: [TimelineEvent.Kind.STATUS_UPDATE],
    MessageKind.PAGE: [TimelineEvent.Kind.ESCALATED, TimelineEvent.Kind.ACK_SLA_BREACHED, TimelineEvent.Kind.DECLARED],
    MessageKind.UPDATE_OVERDUE: [TimelineEvent.Kind.UPDATE_OVERDUE],
    MessageKind.ACKNOWLEDGED: [TimelineEvent.Kind.ACKNOWLEDGED],
    MessageKind.RESOLUTION: [TimelineEvent.Kind.RESOLVED],
    MessageKind.EXECUTIVE_SUMMARY: [TimelineEvent.Kind.STATUS_UPDATE, TimelineEvent.Kind.DECLARED],
    MessageKind.CUSTOMER_NOTICE: [TimelineEvent.Kind.STATUS_UPDATE, TimelineEvent.Kind.DECLARED],
    MessageKind.POSTMORTEM_REMINDER: [TimelineEvent.Kind.POSTMORTEM_REMINDER, TimelineEvent.Kind.RESOLVED],
    MessageKind.REPORT: [],
    MessageKind.REOPENED: [TimelineEvent.Kind.REOPENED],
    MessageKind.ESCALATION_INFO: [TimelineEvent.Kind.ESCALATED, TimelineEvent.Kind.ACKNOWLEDGED],
    MessageKind.STATUS_PAGE_OVERDUE: [TimelineEvent.Kind.STATUS_PAGE_OVERDUE],
}


# --- Message templates -------------------------------------------------------------------------


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = forms.MessageTemplateForm
    change_form_template = "admin/comms/messagetemplate/change_form.html"
    list_display = ("kind", "audience", "channel", "subject", "edited", "updated", "updated_by")
    list_filter = ("kind", "audience", "channel")
    list_select_related = ("updated_by",)
    search_fields = ("subject", "body")
    readonly_fields = ("updated", "updated_by")
    fieldsets = (
        ("Which message", {"fields": (("kind", "audience", "channel"),)}),
        ("Words", {"fields": ("subject", "body"), "description": "Django template language over the variables listed below the form. "
                   "{% load %}, {% include %} and other tags that reach outside the template are refused."}),
        ("Last change", {"fields": (("updated", "updated_by"),)}),
    )
    actions = ["reset_to_default"]

    @admin.display(description="Edited", boolean=True)
    def edited(self, template):
        shipped = defaults.DEFAULTS.get((template.kind, template.audience, template.channel))
        return None if shipped is None else (template.subject, template.body) != shipped

    @admin.display(description="Updated", ordering="updated_at")
    def updated(self, template):
        return local(template.updated_at, MINUTE)

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Reset the selected templates to the shipped default", permissions=["change"])
    def reset_to_default(self, request, queryset):
        reset, skipped = 0, []
        for template in queryset:
            shipped = defaults.DEFAULTS.get((template.kind, template.audience, template.channel))
            if shipped is None:
                skipped.append(str(template))
                continue
            template.subject, template.body = shipped
            template.updated_by = request.user
            template.save(update_fields=["subject", "body", "updated_at", "updated_by"])
            reset += 1
        self.message_user(request, f"{reset} template{'s' if reset != 1 else ''} reset to the shipped default.", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"No shipped default for: {'; '.join(skipped)}.", messages.WARNING)

    # --- Preview ---
    #
    # "Preview" on the change page posts the form with `_preview`: the edited text is validated
    # and rendered but never saved (the form reports itself invalid, so the admin shows the page
    # again with it). People who may only view templates preview the saved text with a GET form.

    def _previewing_edits(self, request) -> bool:
        return request.method == "POST" and "_preview" in request.POST

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        if not self._previewing_edits(request):
            return form_class

        class PreviewOnly(form_class):
            def is_valid(self):
                self.preview_valid = super().is_valid()
                return False  # shown again with the preview, never saved

        return PreviewOnly

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context.update(self._preview(request, context["adminform"].form, obj, add=add))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def _preview(self, request, model_form, obj, *, add: bool) -> dict:
        editable = self.has_add_permission(request) if add else self.has_change_permission(request, obj)
        form_id = f"{self.opts.model_name}_form" if editable else None
        if self._previewing_edits(request):
            preview_form = forms.TemplatePreviewForm(request.POST, user=request.user, form_id=form_id)
        elif "_preview" in request.GET:
            preview_form = forms.TemplatePreviewForm(request.GET, user=request.user, form_id=form_id)
        else:
            preview_form = forms.TemplatePreviewForm(initial={"recipient": request.user.pk}, user=request.user, form_id=form_id)
        result = {
            "preview_form": preview_form,
            "preview_editable": editable,
            "recent_incidents": preview_form.recent_incidents(),
            "variables": [(name, *about) for name, about in templating.ALL_VARIABLES.items()],
            "sms_max_segments": settings.VIGIL_SMS_MAX_SEGMENTS,
        }
        if obj is not None:
            shipped = defaults.DEFAULTS.get((obj.kind, obj.audience, obj.channel))
            result["shipped_default"] = {"subject": shipped[0], "body": shipped[1]} if shipped else None
        if not preview_form.is_bound:
            return result

        if self._previewing_edits(request):
            if not getattr(model_form, "preview_valid", False):
                result["preview_error"] = "Correct the errors above to see a preview."
                return result
            data = model_form.cleaned_data
            kind, audience, channel = data["kind"], data["audience"], data["channel"]
            subject, body = data.get("subject") or "", data["body"]
        elif obj is not None:
            kind, audience, channel, subject, body = obj.kind, obj.audience, obj.channel, obj.subject, obj.body
        else:
            return result
        if not preview_form.is_valid():
            return result
        values = self._preview_values(preview_form.cleaned_data["incident"], preview_form.cleaned_data["recipient"], kind)
        # What the message will really be rendered from: a restricted incident's words see only
        # its reference, severity and services.
        values = templating.for_audience(audience, values)
        try:
            rendered = templating.render_text(subject, body, channel, values)
        except Exception as error:  # a row saved around the admin may not render
            result["preview_error"] = f"This template does not render: {type(error).__name__}: {error}"
            return result
        result["preview"] = {
            "rendered": rendered,
            "channel": channel,
            "incident": preview_form.cleaned_data["incident"],
            "sms": sms.info(rendered.body) if channel == Channel.SMS else None,
            "unsaved": self._previewing_edits(request),
        }
        return result

    def _preview_values(self, incident, recipient, kind) -> dict[str, str]:
        extra = {"ack_url": f"{settings.VIGIL_BASE_URL.rstrip('/')}/ack/preview/", "ack_code": "123456"}
        if kind in (MessageKind.POSTMORTEM_REMINDER, MessageKind.REPORT):
            extra.update({name: sample for name, (_, sample) in templating.EXTRA_VARIABLES.items()})
        if incident is None:
            values = templating.sample_context(**extra)
            values["recipient_name"] = str(recipient) if recipient else ""
            return values
        event_kinds = PREVIEW_EVENTS.get(kind, [])
        event = (
            incident.timeline.filter(kind__in=event_kinds).select_related("actor").order_by("-occurred_at", "-pk").first()
            if event_kinds
            else None
        )
        return templating.context(incident, event=event, recipient=recipient, extra=extra)


# --- Stakeholder groups ------------------------------------------------------------------------


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


# --- Contact methods and rules: everyone their own ----------------------------------------------


class OwnRowsAdmin(admin.ModelAdmin):
    """Rows that belong to a person (`user`): holders of the model's change permission manage
    everyone's; anyone with its add or view permission sees and edits only their own."""

    own_form: type = None
    own_fields: tuple[str, ...] = ()

    def _manages_all(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    def _manages_own(self, request) -> bool:
        return request.user.is_active and request.user.has_perm(f"{self.opts.app_label}.add_{self.opts.model_name}")

    def _is_own(self, request, obj) -> bool:
        return obj is None or obj.user_id == request.user.pk

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if self._manages_all(request) else queryset.filter(user=request.user)

    def has_view_permission(self, request, obj=None):
        if self._manages_all(request):
            return True
        return (self._manages_own(request) or super().has_view_permission(request)) and self._is_own(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._manages_all(request) or (self._manages_own(request) and self._is_own(request, obj))

    def has_delete_permission(self, request, obj=None):
        if super().has_delete_permission(request, obj) and self._manages_all(request):
            return True
        return self._manages_own(request) and self._is_own(request, obj)

    def get_fields(self, request, obj=None):
        if self._manages_all(request):
            return super().get_fields(request, obj)
        return list(self.own_fields)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if not self._manages_all(request):
            kwargs["form"] = type(self.own_form.__name__, (self.own_form,), {"owner": request.user})
            kwargs["fields"] = list(self.own_fields)
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        if not self._manages_all(request):
            obj.user = request.user
        super().save_model(request, obj, form, change)


@admin.register(ContactMethod)
class ContactMethodAdmin(OwnRowsAdmin):
    own_form = forms.OwnContactMethodForm
    own_fields = ("channel", "address", "webhook_url", "label", "is_active")
    list_display = ("user", "channel", "address", "label", "is_active")
    list_filter = ("channel", "is_active")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_select_related = ("user",)
    search_fields = ("address", "label", "user__username", "user__first_name", "user__last_name")


@admin.register(NotificationRule)
class NotificationRuleAdmin(OwnRowsAdmin):
    own_form = forms.OwnNotificationRuleForm
    own_fields = ("contact_method", "delay", "only_if_unacknowledged")
    list_display = ("user", "contact_method", "after", "only_if_unacknowledged")
    list_select_related = ("user", "contact_method")
    search_fields = ("user__username", "user__first_name", "user__last_name", "contact_method__address")

    @admin.display(description="After", ordering="delay")
    def after(self, rule):
        return "at once" if not rule.delay else duration(rule.delay)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "contact_method":
            queryset = ContactMethod.objects.select_related("user")
            if not self._manages_all(request):
                queryset = queryset.filter(user=request.user)
            kwargs["queryset"] = queryset
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            if self._manages_all(request):
                field.label_from_instance = lambda method: f"{method.user} · {method}"
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --- The outbox --------------------------------------------------------------------------------


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "created", "status_badge", "channel", "kind", "audience", "to", "incident_ref", "attempts", "error", "sent",
    )
    list_filter = ("status", "channel", "kind", "audience")
    list_select_related = ("recipient", "incident")
    search_fields = ("address",)
    search_help_text = "An address, or an incident reference such as INC-42."
    list_per_page = 100
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    actions = ["resend"]
    # Not shown: the acknowledge code (it acknowledges by SMS reply) and the webhook URL (a secret).
    fields = (
        ("status", "kind", "audience", "channel", "is_page"),
        ("incident", "event"),
        ("recipient", "address"),
        "subject", "body",
        ("created_at", "send_after", "enqueued_at", "sent_at"),
        ("attempts", "last_error"),
        ("provider_id", "bundled_into", "ack_used_at"),
        "key",
    )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.has_perm(VIEW_RESTRICTED):
            return queryset
        # Messages about a restricted incident are as restricted as the incident.
        return queryset.filter(Q(incident__isnull=True) | Q(incident__in=visible_incidents(request.user).values("pk")))

    def get_search_results(self, request, queryset, search_term):
        number = Incident.number_from_reference(search_term)
        if number:
            return queryset.filter(Q(incident__number=number) | Q(address__icontains=search_term.strip())), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request):
        return False  # written by the outbox only

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the record of who was told what

    def has_resend_permission(self, request):
        return request.user.has_perm("comms.change_notification")

    @admin.action(description="Resend the selected notifications", permissions=["resend"])
    def resend(self, request, queryset):
        from comms import outbox  # imported when used: the admin does not load the delivery machinery

        # Without the list's joins: resend locks the rows, and PostgreSQL refuses FOR UPDATE on
        # the nullable side of an outer join.
        count = outbox.resend(queryset.select_related(None))
        if count:
            self.message_user(request, f"{count} notification{'s' if count != 1 else ''} re-queued.", messages.SUCCESS)
        else:
            self.message_user(request, "Nothing was re-queued.", messages.WARNING)

    @admin.display(description="Created", ordering="created_at")
    def created(self, notification):
        return local(notification.created_at, MINUTE)

    @admin.display(description="Sent", ordering="sent_at")
    def sent(self, notification):
        return local(notification.sent_at, MINUTE)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, notification):
        return badge(notification.get_status_display(), STATUS_COLORS.get(notification.status, "#666666"))

    @admin.display(description="To", ordering="address")
    def to(self, notification):
        if notification.recipient_id:
            return format_html("{} <span class='vigil-muted'>{}</span>", notification.recipient, notification.address)
        return notification.address

    @admin.display(description="Incident", ordering="incident__number")
    def incident_ref(self, notification):
        return notification.incident.reference if notification.incident_id else EMPTY

    @admin.display(description="Last error")
    def error(self, notification):
        return truncatechars(notification.last_error, 80) if notification.last_error else ""
