"""Admin forms for comms: message templates (validated by rendering them), their preview,
stakeholder groups (subscriptions as checkboxes) and people's own contact methods and rules."""

from __future__ import annotations


from django import forms
from django.contrib.auth import get_user_model

from incidents.models import Incident, SeverityLevel
from incidents.selectors import visible_incidents

from . import templating
from .models import ContactMethod, MessageTemplate, NotificationRule, StakeholderGroup, Subscription



class MessageTemplateForm(forms.ModelForm):
    """Refuses a template that would not render: a syntax error, an unknown or refused tag or
    filter, or an error rendering it against sample values. The errors are shown on the field."""

    class Meta:
        model = MessageTemplate
        fields = ["kind", "audience", "channel", "subject", "body"]
        widgets = {
            "subject": forms.TextInput(attrs={"class": "vTextField", "style": "width: 60em"}),
            "body": forms.Textarea(attrs={"rows": 18, "cols": 100, "style": "font-family: monospace; width: 60em"}),
        }

    def clean(self):
        cleaned = super().clean()
        channel = cleaned.get("channel")
        if channel is None or "body" not in cleaned:
            return cleaned
        for problem in templating.validate(cleaned.get("subject") or "", cleaned["body"], channel):
            field = "subject" if problem.startswith("Subject") else "body" if problem.startswith("Body") else None
            self.add_error(field, problem)
        return cleaned


class TemplatePreviewForm(forms.Form):
    """Pick an incident the user may see (by reference) and a recipient to render a template for."""

    incident = forms.CharField(
        required=False,
        max_length=20,
        help_text="A reference such as INC-42; blank for made-up sample values.",
        widget=forms.TextInput(attrs={"list": "vigil-recent-incidents", "size": 12, "placeholder": "INC-42"}),
    )
    recipient = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="nobody in Vigil (an outside address)",
        help_text="Their name and time zone are used.",
    )

    def __init__(self, *args, user, form_id: str | None = None, **kwargs):
        super().__init__(*args, prefix="preview", **kwargs)
        self.user = user
        self.fields["recipient"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")
        if form_id:
            # The fields sit under the admin's own form but belong to it, so "Preview" posts the edited text too.
            for field in self.fields.values():
                field.widget.attrs["form"] = form_id

    def _incidents(self):
        """Incidents the user may see, as `incidents.permissions.can_view` decides."""
        if not self.user.has_perm("incidents.view_incident"):
            return visible_incidents(self.user).none()
        return visible_incidents(self.user)

    def recent_incidents(self):
        return self._incidents().order_by("-declared_at").only("number", "title")[:20]

    def clean_incident(self):
        text = self.cleaned_data["incident"].strip()
        if not text:
            return None
        number = Incident.number_from_reference(text)
        incident = None
        if number:
            incident = self._incidents().select_related("severity").filter(number=number).first()
        if incident is None:
            # The same answer whether it does not exist or is restricted: its existence is not given away.
            raise forms.ValidationError(f"No incident {text} that you can see.")
        return incident


class StakeholderGroupForm(forms.ModelForm):
    subscriptions = forms.MultipleChoiceField(
        choices=Subscription.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The kinds of message they receive.",
    )
    severities = forms.ModelMultipleChoiceField(
        queryset=SeverityLevel.objects.order_by("rank"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Severities they hear about.",
    )

    class Meta:
        model = StakeholderGroup
        fields = ["name", "slug", "description", "audience", "subscriptions", "severities", "members", "external_addresses", "is_active"]
        widgets = {"external_addresses": forms.Textarea(attrs={"rows": 4, "cols": 60})}


class OwnContactMethodForm(forms.ModelForm):
    """A contact method of the signed-in person (`owner`, set by the admin): the owner is not a
    field, so the unique (person, channel, address) rule is checked here instead."""

    owner = None
    webhook_url = forms.URLField(
        required=False, assume_scheme="https", label="Webhook URL",
        help_text=ContactMethod._meta.get_field("webhook_url").help_text,
    )

    class Meta:
        model = ContactMethod
        fields = ["channel", "address", "webhook_url", "label", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.user_id is None and self.owner is not None:
            self.instance.user = self.owner

    def validate_unique(self):
        super().validate_unique()
        instance = self.instance
        if instance.user_id and instance.channel and instance.address:
            taken = ContactMethod.objects.filter(user_id=instance.user_id, channel=instance.channel, address=instance.address)
            if taken.exclude(pk=instance.pk).exists():
                self.add_error("address", "You already have this contact method.")


class OwnNotificationRuleForm(forms.ModelForm):
    """A notification rule of the signed-in person (`owner`, set by the admin), on one of their
    own contact methods (the admin limits the choice)."""

    owner = None

    class Meta:
        model = NotificationRule
        fields = ["contact_method", "delay", "only_if_unacknowledged"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.user_id is None and self.owner is not None:
            self.instance.user = self.owner
