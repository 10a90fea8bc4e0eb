"""What the incident forms share: `OperationForm`, one small form of the incident page, and the
fields for people, severities, services and lists."""

from __future__ import annotations

from django import forms
from django.contrib.admin import widgets
from django.contrib.auth import get_user_model
from django.utils.html import format_html

from ..models import Incident, Status


class ListField(forms.CharField):
    """A JSON list of strings edited as text: split on `separator`, blanks dropped."""

    def __init__(self, *, separator: str = ",", **kwargs):
        self.separator = separator
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return ("\n" if self.separator == "\n" else ", ").join(str(v) for v in value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        text = super().to_python(value)
        return [item.strip() for item in text.split(self.separator) if item.strip()]


class CountField(forms.IntegerField):
    """A whole number within bounds, refused in words ("Too large: at most 1,000,000,000 users.")
    rather than with the database column's limit (Django's "≤ 9223372036854775807")."""

    least, most, unit = 0, 0, ""

    def __init__(self, **kwargs):
        kwargs.pop("min_value", None)  # the model field's own bounds give way to these
        kwargs.pop("max_value", None)
        super().__init__(min_value=self.least, max_value=self.most, **kwargs)
        self.error_messages["max_value"] = f"Too large: at most {self.most:,} {self.unit}."
        self.error_messages["min_value"] = (
            "Cannot be negative." if self.least == 0 else f"Too small: at least {self.least:,} {self.unit}."
        )


def count_field(most: int, unit: str, *, least: int = 0) -> type[CountField]:
    """A `CountField` class for a ModelForm's `field_classes`: `count_field(1_000_000_000, "users")`."""
    return type(f"CountField_{unit}", (CountField,), {"least": least, "most": most, "unit": unit})


class UserChoiceField(forms.ModelChoiceField):
    """Active staff users: the people who can hold a role on an incident."""

    def __init__(self, **kwargs):
        queryset = get_user_model().objects.filter(is_active=True, is_staff=True).order_by("first_name", "last_name", "username")
        super().__init__(queryset=queryset, **kwargs)

    def label_from_instance(self, user):
        name = str(user)
        return name if name == user.get_username() else f"{name} ({user.get_username()})"


class ServicesWidget(widgets.FilteredSelectMultiple):
    """The admin's two-box picker, wrapped as the admin wraps it so its script keeps the label on the left."""

    def render(self, *args, **kwargs):
        return format_html('<div class="related-widget-wrapper">{}</div>', super().render(*args, **kwargs))


class SeverityChoiceField(forms.ModelChoiceField):
    def __init__(self, *, with_description: bool = False, **kwargs):
        self.with_description = with_description
        super().__init__(**kwargs)

    def label_from_instance(self, severity):
        text = f"{severity.name} · {severity.label}"
        return f"{text} — {severity.description}" if self.with_description and severity.description else text


class OperationForm(forms.Form):
    """One small form of the incident page. `perform` calls one action and returns the success message."""

    label = ""
    button = ""

    def __init__(self, *args, incident: Incident, **kwargs):
        self.incident = incident
        super().__init__(*args, **kwargs)

    @property
    def offered(self) -> bool:
        """Whether the form makes sense for the incident as it stands (the action still decides)."""
        return self.incident.status != Status.CLOSED

    def perform(self, *, actor, source) -> str:
        raise NotImplementedError
