"""The message templates' admin: validated on save (`comms.forms`), previewed against a real
incident the editor may see (the edited, unsaved text, or the saved one for people who may only
view), compared with and reset to the shipped default (`comms.defaults`)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages

from incidents.formatting import MINUTE, local
from incidents.models import TimelineEvent

from .. import defaults, forms, sms, templating
from ..models import Channel, MessageKind, MessageTemplate

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
    MessageKind.SHIFT_COVER: [],
    MessageKind.REOPENED: [TimelineEvent.Kind.REOPENED],
    MessageKind.ESCALATION_INFO: [TimelineEvent.Kind.ESCALATED, TimelineEvent.Kind.ACKNOWLEDGED],
    MessageKind.STATUS_PAGE_OVERDUE: [TimelineEvent.Kind.STATUS_PAGE_OVERDUE],
}


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
