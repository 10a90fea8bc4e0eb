"""The catalog's forms (the severity matrix, incident types) and the escalation preview's choice
of policy and severity."""

from __future__ import annotations

from datetime import timedelta

from django import forms

from oncall.formatting import typed_duration
from oncall.forms import DelayField
from oncall.models import EscalationPolicy

from ..models import IncidentType, MetricTargets, SeverityLevel
from ..models.catalog import POSTMORTEM_DUE_BOUNDS, POSTMORTEM_DUE_WORDS, POSTMORTEM_STEPS
from .base import ListField, SeverityChoiceField


class MatrixDurationField(DelayField):
    """A duration of the response matrix typed as the matrix says it: "5 min", "4 h", "14 d"
    (Django's "00:05:00" works too). Shown exactly, so saving the page never rounds a target."""

    widget = forms.TextInput(attrs={"size": 14, "placeholder": "e.g. 15 min"})
    default_error_messages = {
        "invalid": "Type a duration such as “5 min”, “4 h”, “1 h 30 min” or “14 d”.",
        "overflow": "Far longer than any target of the matrix may be: see the bound below.",
    }

    def prepare_value(self, value):
        return typed_duration(value) if isinstance(value, timedelta) else value


class PostmortemDueField(forms.IntegerField):
    """A post-mortem due-date offset: a number outside every unit's bounds is refused with them
    named; within them, `SeverityLevel.clean` checks the bound of the unit chosen."""

    default_error_messages = {"min_value": f"Must be {POSTMORTEM_DUE_WORDS}.", "max_value": f"Must be {POSTMORTEM_DUE_WORDS}."}

    def __init__(self, **kwargs):
        least = min(low for low, _ in POSTMORTEM_DUE_BOUNDS.values())
        most = max(high for _, high in POSTMORTEM_DUE_BOUNDS.values())
        super().__init__(**{**kwargs, "min_value": least, "max_value": most})


class SeverityLevelForm(forms.ModelForm):
    class Meta:
        model = SeverityLevel
        fields = "__all__"
        field_classes = {
            **dict.fromkeys(
                [
                    "ack_sla", "first_update_interval", "update_interval", "resolve_target", "observation_period",
                    "mtta_target", "mttr_target",
                ],
                MatrixDurationField,
            ),
            **{f"postmortem_{step}_due": PostmortemDueField for step in POSTMORTEM_STEPS},
        }


class MetricTargetsForm(forms.ModelForm):
    # A share: 1 to 100 %, refused with one message whichever side it falls (the model field's
    # form field would say "0 or more" first, below 1).
    postmortem_completion_target = forms.IntegerField(
        label="Post-mortem completion target (%)",
        min_value=1,
        max_value=100,
        help_text=MetricTargets._meta.get_field("postmortem_completion_target").help_text,
    )

    class Meta:
        model = MetricTargets
        fields = ["mttd_target", "postmortem_completion_target"]
        field_classes = {"mttd_target": MatrixDurationField}


class IncidentTypeForm(forms.ModelForm):
    checklist = ListField(
        separator="\n",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "vLargeTextField"}),
        help_text="One item per line; they become the task list of each new incident of this type.",
    )

    class Meta:
        model = IncidentType
        fields = ["name", "slug", "description", "symptoms", "checklist", "restricted_by_default"]


class EscalationPreviewForm(forms.Form):
    """Pick a policy and a severity to see the escalation an incident declared now would get."""

    policy = forms.ModelChoiceField(EscalationPolicy.objects.all(), empty_label=None)
    severity = SeverityChoiceField(queryset=SeverityLevel.objects.all(), empty_label=None)
