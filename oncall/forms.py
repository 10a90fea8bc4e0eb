"""Admin forms for teams, layers, overrides, calendar feeds and escalation cells."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils.dateparse import parse_duration

from . import api_auth
from .actions import override_errors
from .formatting import duration, typed_duration
from .models import (
    ESCALATION_DELAY_MOST,
    NO_WORKING_DAYS,
    ApiKey,
    EscalationDelay,
    Layer,
    Override,
    Schedule,
    Team,
    User,
    list_of_weekdays,
)

# Plain inputs for wall-clock times and dates: the admin's widgets offer "Now"/"Today" and warn
# about the browser's offset, which means nothing for a local hand-off time.
TIME_INPUT = forms.TimeInput(format="%H:%M", attrs={"size": 6, "placeholder": "hh:mm"})
DATE_INPUT = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})

WEEKDAYS = [(1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (7, "Sun")]


def delay_text(delay: dt.timedelta, business_hours: bool = False) -> str:
    """A cell of the escalation matrix: "at once", "15 min", "1 d (business hours)"."""
    text = "at once" if not delay else duration(delay)
    return f"{text} (business hours)" if business_hours else text


class WeekdaysField(forms.TypedMultipleChoiceField):
    """ISO weekdays (1 = Monday) as a row of checkboxes, stored as a JSON list of numbers."""

    widget = forms.CheckboxSelectMultiple(attrs={"class": "vigil-weekdays"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(choices=WEEKDAYS, coerce=int, **kwargs)

    def clean(self, value):
        return sorted(super().clean(value))


class TeamForm(forms.ModelForm):
    # Declared here, the field would lose the model's default: a new team starts Monday–Friday.
    working_days = WeekdaysField(
        required=True,
        initial=list_of_weekdays,
        help_text="Business-hours escalations wait for these days. A team that works every day ticks all seven.",
        error_messages={"required": NO_WORKING_DAYS},
    )

    class Meta:
        model = Team
        fields = "__all__"
        widgets = {"working_hours_start": TIME_INPUT, "working_hours_end": TIME_INPUT}


class LayerForm(forms.ModelForm):
    restriction_days = WeekdaysField(
        label="Only on", help_text="Days this layer covers (in the schedule's zone). None ticked = every day."
    )

    class Meta:
        model = Layer
        fields = "__all__"
        labels = {"restriction_start": "From", "restriction_end": "Until"}
        widgets = {
            "start_date": DATE_INPUT,
            "handoff_time": TIME_INPUT,
            "restriction_start": TIME_INPUT,
            "restriction_end": TIME_INPUT,
        }
        help_texts = {
            "restriction_end": "Leave both times empty for whole days. An end before the start crosses midnight.",
            "handoff_time": "Local time in the schedule's zone; daily and weekly shifts hand off at this time.",
        }

    def clean(self):
        data = super().clean()
        if data.get("rotation") == Layer.Rotation.HOURS and not data.get("rotation_hours"):
            self.add_error("rotation_hours", "Say how many hours each shift lasts.")
        if (data.get("restriction_start") is None) != (data.get("restriction_end") is None):
            self.add_error("restriction_end", "Give both times of the window, or neither.")
        return data


class OverrideForm(forms.ModelForm):
    class Meta:
        model = Override
        fields = ["schedule", "user", "start", "end", "reason"]
        help_texts = {
            "user": "Who is on call instead.",
            "start": "In your time zone.",
            "reason": "e.g. holiday cover, shift swap with Bob.",
        }

    def clean(self):
        data = super().clean()
        # A missing user already has the field's own "required" error.
        errors = override_errors(start=data.get("start"), end=data.get("end"), user=data.get("user"), named=False)
        for field, message in errors.items():
            self.add_error(field, message)
        return data


class NewFeedForm(forms.Form):
    """Whose shifts a new calendar feed carries: the requesting user's, or one schedule's."""

    schedule = forms.ModelChoiceField(
        queryset=Schedule.objects.all(),
        required=False,
        empty_label="My shifts (every schedule)",
        label="Shifts of",
        help_text="A new URL replaces the previous one for the same person or schedule.",
    )


# Longest unit names first: the pattern must not stop at the "m" of "min".
_DELAY_PART = re.compile(r"(\d+)\s*(days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)\b", re.IGNORECASE)
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


TOO_LONG = f"A delay is at most {duration(ESCALATION_DELAY_MOST)} after declaration."


class DelayField(forms.DurationField):
    """An escalation delay typed as an operator says it: "at once", "15 min", "1 h 30 min", "1 d".
    Django's own forms ("00:15:00", "1 00:00:00", ISO 8601) work too."""

    widget = forms.TextInput(attrs={"size": 12, "placeholder": "e.g. 15 min"})
    default_error_messages = {"invalid": "Type a delay such as “at once”, “15 min”, “4 h” or “1 d”.", "overflow": TOO_LONG}

    def prepare_value(self, value):
        if isinstance(value, dt.timedelta):
            # Exact, not the matrix's two units: saving the page must not round a cell.
            return "at once" if not value else typed_duration(value)
        return value

    def to_python(self, value):
        if isinstance(value, dt.timedelta):
            return value
        text = (value or "").strip().lower()
        if text in ("", "—", "-"):
            return None
        if text in ("at once", "immediately", "now", "0"):
            return dt.timedelta(0)
        try:
            return self._parse(text)
        except (OverflowError, ValueError):  # "99999999999 d" is past what a timedelta (or int()) holds
            raise forms.ValidationError(self.error_messages["overflow"], code="overflow") from None

    def _parse(self, text: str) -> dt.timedelta:
        # "-15 min" is read as negative (and refused as such by the form), not as a typo.
        negative = text.startswith("-")
        words = text[1:].strip() if negative else text
        parts = _DELAY_PART.findall(words)
        if parts and _DELAY_PART.sub("", words).strip() == "":
            total = dt.timedelta()
            for amount, unit in parts:
                total += dt.timedelta(**{_UNITS[unit[0].lower()]: int(amount)})
            return -total if negative else total
        # Django's own forms carry their sign themselves ("-1 23:55:00" is minus five minutes).
        parsed = parse_duration(text.upper() if text.lstrip("-+").startswith("p") else text)
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class EscalationDelayForm(forms.ModelForm):
    delay = DelayField(help_text=f"Counted from declaration: from “at once” to {duration(ESCALATION_DELAY_MOST)}.")

    class Meta:
        model = EscalationDelay
        fields = ["severity_rank", "delay", "business_hours"]
        labels = {"severity_rank": "Severity rank", "business_hours": "In business hours"}
        help_texts = {"severity_rank": "1 is the most severe."}

    def clean_delay(self):
        delay = self.cleaned_data["delay"]
        if delay is not None and delay < dt.timedelta(0):
            raise forms.ValidationError("A delay cannot be negative: “at once” is the earliest.", code="out_of_bounds")
        if delay is not None and delay > ESCALATION_DELAY_MOST:
            raise forms.ValidationError(TOO_LONG, code="out_of_bounds")
        return delay


def parse_instant(value: str | None) -> dt.datetime | None:
    """An aware datetime from ISO 8601 text (a link's `?start=…`), else None."""
    try:
        moment = dt.datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


class NewApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. “Slack bot” or “Alertmanager”.")
    scopes = forms.MultipleChoiceField(choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple)
    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        help_text="The key acts as this person: their permissions, and the restricted incidents they may see.",
    )
    rate_limit_per_minute = forms.IntegerField(min_value=1, max_value=100_000, initial=600, help_text="Requests per minute before 429.")

    def __init__(self, *args, user, may_pick_owner: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].initial = user
        if not may_pick_owner:
            self.fields["owner"].queryset = User.objects.filter(pk=user.pk)
        # Only the scopes the requesting user's permissions allow are offered; a key for another
        # owner is also held to that owner's permissions (clean).
        allowed = api_auth.allowed_scopes(user)
        words = " · ".join(f"{scope}: {api_auth.SCOPE_WORDS[scope]}" for scope in allowed)
        self.fields["scopes"].help_text = f"Your permissions allow {', '.join(allowed) or 'no scope'} ({words})." + (
            " A key for someone else gets only the scopes their permissions allow." if may_pick_owner else ""
        )
        self.fields["scopes"].choices = [(value, label) for value, label in ApiKey.Scope.choices if value in allowed]
        self.fields["scopes"].error_messages["invalid_choice"] = (
            "Your permissions do not allow the %(value)s scope (a key acts as its owner)."
        )

    def clean(self):
        data = super().clean()
        owner, scopes = data.get("owner"), data.get("scopes") or []
        if owner is not None:
            beyond = [scope for scope in scopes if scope not in api_auth.allowed_scopes(owner)]
            if beyond:
                allowed = ", ".join(api_auth.allowed_scopes(owner)) or "none"
                self.add_error(
                    "scopes",
                    f"{owner}'s permissions do not allow the {', '.join(beyond)} scope "
                    f"(a key acts as its owner); they allow: {allowed}.",
                )
        return data
