"""Who hears about an incident, through what, in which words: contact methods, notification
rules, stakeholder groups, message templates and the notification outbox."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models
from django.db.models import Q

from incidents.models import Incident, SeverityLevel, TimelineEvent
from oncall.models import Named, validate_time_zone


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    CHAT = "chat", "Chat"
    # The incident's own chat channel (comms/warroom/): a message per event, to the room itself.
    WAR_ROOM = "war_room", "War room"


# The channels a person is reached on (contact methods, templates); the war room is not one.
PERSONAL_CHANNELS = [(c.value, c.label) for c in (Channel.EMAIL, Channel.SMS, Channel.CHAT)]


class Audience(models.TextChoices):
    RESPONDERS = "responders", "Responders"
    INTERNAL = "internal", "Internal stakeholders"
    EXECUTIVES = "executives", "Executives"
    CUSTOMERS = "customers", "Customers"
    # Everyone told about a restricted incident (its participants): reference, severity and
    # services only, whatever the message is about (`comms.templating.RESTRICTED_VARIABLES`).
    RESTRICTED = "restricted", "Restricted incident"
    # Whoever is in the incident's war-room channel: the timeline's own words, one line per event
    # (comms/warroom/messages.py), not a template.
    WAR_ROOM = "war_room", "War room"


# The audiences templates are written for; the war room speaks the timeline's words.
TEMPLATE_AUDIENCES = [(a.value, a.label) for a in Audience if a != Audience.WAR_ROOM]


class MessageKind(models.TextChoices):
    """What a message is about: the rows of the template matrix."""

    DECLARED = "declared", "Incident declared"
    STATUS_UPDATE = "status_update", "Status update"
    PAGE = "page", "Page / escalation"
    UPDATE_OVERDUE = "update_overdue", "Update overdue reminder"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLUTION = "resolution", "Resolution"
    EXECUTIVE_SUMMARY = "executive_summary", "Executive summary"
    CUSTOMER_NOTICE = "customer_notice", "Customer notice"
    POSTMORTEM_REMINDER = "postmortem_reminder", "Post-mortem reminder"
    REPORT = "report", "Report"
    REOPENED = "reopened", "Reopened"
    ESCALATION_INFO = "escalation_info", "Escalation for information (no acknowledgement)"
    STATUS_PAGE_OVERDUE = "status_page_overdue", "Status page publication overdue"
    # Written by oncall (cover requests and answers), not from templates: `comms/notices.py`.
    SHIFT_COVER = "shift_cover", "Shift cover"


class Subscription(models.TextChoices):
    """The kinds of message a stakeholder group can subscribe to."""

    INTERNAL_UPDATES = "internal_updates", "Internal updates"
    EXECUTIVE_SUMMARIES = "executive_summaries", "Executive summaries"
    CUSTOMER_NOTICES = "customer_notices", "Customer notices"


def validate_e164(value: str) -> None:
    """A phone number in E.164 (+447700900123), checked with `phonenumbers`."""
    import phonenumbers

    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"{value!r} is not a phone number in international format (+44 7700 900123): {exc}.") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(f"{value!r} is not a valid phone number.")
    if phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) != value:
        raise ValidationError(
            f"Write the number in E.164 form: {phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)}."
        )


def normalize_phone(value: str) -> str:
    """'+44 7700 900123' → '+447700900123' (left alone if it does not parse)."""
    import phonenumbers

    try:
        return phonenumbers.format_number(phonenumbers.parse(value, None), phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        return value


class ContactMethod(models.Model):
    """One way to reach a person: an email address, a phone for SMS, a chat handle and/or webhook."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods")
    channel = models.CharField(max_length=10, choices=PERSONAL_CHANNELS)
    address = models.CharField(
        max_length=254,
        help_text="Email address; phone number in E.164 (+447700900123); or chat handle (@alice).",
    )
    webhook_url = models.URLField(
        blank=True, help_text="Chat only: an incoming-webhook URL for this person (else the shared chat webhook is used)."
    )
    label = models.CharField(max_length=60, blank=True, help_text="e.g. work phone.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user_id", "channel", "pk"]
        constraints = [models.UniqueConstraint(fields=["user", "channel", "address"], name="contact_unique_address")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.address}"

    def clean(self) -> None:
        if self.channel == Channel.SMS:
            self.address = normalize_phone(self.address.strip())
            try:
                validate_e164(self.address)
            except ValidationError as exc:
                raise ValidationError({"address": exc.messages}) from exc
        elif self.channel == Channel.EMAIL:
            self.address = self.address.strip()
            try:
                validate_email(self.address)
            except ValidationError as exc:
                raise ValidationError({"address": "Enter a valid email address."}) from exc
        elif self.channel == Channel.CHAT:
            self.address = self.address.strip()
            if not self.address and not self.webhook_url:
                raise ValidationError("A chat contact needs a handle, a webhook URL, or both.")
        if self.webhook_url and self.channel != Channel.CHAT:
            raise ValidationError({"webhook_url": "Only chat contacts have a webhook URL."})


class NotificationRule(models.Model):
    """When to use a contact method for a page: e.g. email at once, SMS after 2 minutes if
    still unacknowledged. A person with no rules gets `comms.rules.DEFAULT_RULES`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_rules")
    contact_method = models.ForeignKey(ContactMethod, on_delete=models.CASCADE, related_name="rules")
    delay = models.DurationField(default=dt.timedelta(0), help_text="After the page; 0 = at once.")
    only_if_unacknowledged = models.BooleanField(
        default=True, help_text="Skip it if someone acknowledged the incident before the delay passed."
    )

    class Meta:
        ordering = ["user_id", "delay", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["contact_method", "delay"], name="rule_unique_delay"),
            models.CheckConstraint(condition=Q(delay__gte=dt.timedelta(0)), name="rule_delay_not_negative"),
        ]

    def __str__(self) -> str:
        from oncall.formatting import duration

        return f"{self.contact_method} {'at once' if not self.delay else 'after ' + duration(self.delay)}"

    def clean(self) -> None:
        if self.contact_method_id and self.user_id and self.contact_method.user_id != self.user_id:
            raise ValidationError({"contact_method": "Pick one of this person's own contact methods."})


class StakeholderGroup(Named):
    """People (and outside addresses) kept informed: they subscribe to severities and kinds of message."""

    description = models.TextField(blank=True)
    audience = models.CharField(
        max_length=20,
        choices=[(a.value, a.label) for a in (Audience.INTERNAL, Audience.EXECUTIVES, Audience.CUSTOMERS)],
        default=Audience.INTERNAL,
        help_text="Which wording they get.",
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="stakeholder_groups")
    external_addresses = models.TextField(blank=True, help_text="Email addresses outside Vigil, one per line.")
    severities = models.ManyToManyField(SeverityLevel, blank=True, related_name="+", help_text="Severities they hear about.")
    subscriptions = models.JSONField(default=list, blank=True, help_text="Kinds of message: internal updates, executive summaries, customer notices.")
    is_active = models.BooleanField(default=True)

    def external_list(self) -> list[str]:
        return [line.strip() for line in self.external_addresses.splitlines() if line.strip()]

    def clean(self) -> None:
        bad = []
        for address in self.external_list():
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValidationError({"external_addresses": f"Not email addresses: {', '.join(bad)}."})
        unknown = set(self.subscriptions or []) - set(Subscription.values)
        if unknown:
            raise ValidationError({"subscriptions": f"Unknown kinds: {', '.join(sorted(unknown))}."})


class MessageTemplate(models.Model):
    """The words of one kind of message for one audience on one channel. Rendered with Django's
    template language from a flat context of plain values (`comms.templating.context`)."""

    kind = models.CharField(max_length=30, choices=MessageKind.choices)
    audience = models.CharField(max_length=20, choices=TEMPLATE_AUDIENCES)
    channel = models.CharField(max_length=10, choices=PERSONAL_CHANNELS)
    subject = models.CharField(max_length=300, blank=True, help_text="Email only.")
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["kind", "audience", "channel"]
        constraints = [models.UniqueConstraint(fields=["kind", "audience", "channel"], name="template_unique_cell")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.get_audience_display()} · {self.get_channel_display()}"


class Notification(models.Model):
    """The outbox: one message to one recipient on one channel. `key` makes dispatch idempotent:
    (timeline event, recipient, channel), so dispatching an event twice creates nothing new."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"

    key = models.CharField(max_length=200, unique=True)
    event = models.ForeignKey(TimelineEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications")
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=MessageKind.choices)
    audience = models.CharField(max_length=20, choices=Audience.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications")
    contact_method = models.ForeignKey(ContactMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    address = models.CharField(max_length=254, help_text="Email, E.164 number, chat handle.")
    webhook_url = models.URLField(blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    html_body = models.TextField(blank=True)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    is_page = models.BooleanField(default=False, help_text="A page: carries an acknowledge link and code.")
    only_if_unacknowledged = models.BooleanField(default=False)
    send_after = models.DateTimeField(help_text="Not before this instant (delayed rules, throttles, retries).")
    created_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True, help_text="A worker is sending it until then.")
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    bundled_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="bundled",
        help_text="Throttled: delivered inside another notification's message.",
    )
    ack_code = models.CharField(max_length=12, blank=True, db_index=True, help_text="Pages: reply 'ACK <code>' by SMS.")
    ack_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["send_after"], condition=Q(status="pending"), name="notification_pending_due"),
            models.Index(fields=["channel", "address", "sent_at"], name="notification_throttle"),
            models.Index(fields=["incident", "-created_at"], name="notification_incident"),
            # Pager latency and on-call load (comms/reports): pages sent in a period.
            models.Index(fields=["sent_at"], condition=Q(is_page=True, status="sent"), name="notification_page_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.address}: {self.subject or self.body[:40]}"


class ReportSubscription(models.Model):
    """A scheduled escalation report: who gets it, how often and when (local time in `time_zone`),
    which incidents it covers and which sections it holds (`comms.reports.sections`)."""

    class Frequency(models.TextChoices):
        DAILY = "daily", "Daily (the previous day)"
        WEEKLY = "weekly", "Weekly (the previous Monday–Sunday)"
        MONTHLY = "monthly", "Monthly (the previous calendar month)"

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_reports",
        help_text="Sees and edits it without the change permission; their time zone is the default.",
    )
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="report_subscriptions")
    user_groups = models.ManyToManyField(
        "auth.Group", blank=True, related_name="+", verbose_name="Vigil groups", help_text="Everyone in these groups (e.g. Managers)."
    )
    stakeholder_groups = models.ManyToManyField(
        StakeholderGroup, blank=True, related_name="reports", help_text="Their active members and outside addresses."
    )
    addresses = models.TextField(blank=True, help_text="Plain email addresses, one per line.")
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY)
    weekday = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(7)],
        help_text="Weekly: the day it is sent, 1 = Monday … 7 = Sunday.",
    )
    day_of_month = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text="Monthly: the day it is sent; a day the month lacks means its last day (31 → 30 April).",
    )
    send_time = models.TimeField(default=dt.time(8, 0), help_text="Local time in the report's time zone.")
    time_zone = models.CharField(
        max_length=64, blank=True, validators=[validate_time_zone],
        help_text="IANA name, e.g. Europe/London. Empty: the owner's time zone (UTC without an owner).",
    )
    team = models.ForeignKey(
        "oncall.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Only this team's incidents (an affected service it owns). Empty with no services: all incidents.",
    )
    services = models.ManyToManyField(
        "incidents.Service", blank=True, related_name="+", help_text="Only incidents affecting these services."
    )
    sections = models.JSONField(default=list, help_text="The sections it holds, in the report's order.")
    name_restricted = models.BooleanField(
        "name restricted incidents", default=False,
        help_text="Allowed only when every recipient may see restricted incidents; otherwise they are counted, never named.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=1, weekday__lte=7), name="report_weekday_iso"),
            models.CheckConstraint(condition=Q(day_of_month__gte=1, day_of_month__lte=31), name="report_day_of_month"),
        ]

    def __str__(self) -> str:
        return self.name

    def address_list(self) -> list[str]:
        return [line.strip() for line in self.addresses.splitlines() if line.strip()]

    @property
    def zone_name(self) -> str:
        return self.time_zone or (self.owner.time_zone if self.owner_id else "UTC")


class ReportRun(models.Model):
    """The ledger: one row per report period sent. A scheduled run is claimed by inserting its
    row — the unique (subscription, period start) lets exactly one of two beats, a retried task
    or a restarted worker win. Runs sent by hand ("Send now") are `manual` and outside that key."""

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(ReportSubscription, on_delete=models.CASCADE, related_name="runs")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    manual = models.BooleanField(default=False, help_text="Sent by hand from the admin, not by the schedule.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    notifications = models.PositiveIntegerField(default=0, help_text="Messages written to the outbox.")

    class Meta:
        ordering = ["-period_start", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start"], condition=Q(manual=False), name="report_run_once_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription} · {self.period_start:%Y-%m-%d}" + (" (by hand)" if self.manual else "")


class WarRoom(models.Model):
    """The incident's chat channel (comms/warroom/). One per incident: the row is made before the
    provider is asked, and its `name` is kept before `conversations.create`, so a retry after a
    timeout finds the channel it made instead of opening a second."""

    class State(models.TextChoices):
        OPENING = "opening", "Opening"  # to open, or retrying after a failure (`next_attempt_at`)
        OPEN = "open", "Open"
        ARCHIVED = "archived", "Archived"
        GAVE_UP = "gave_up", "Gave up"  # retries exhausted: the timeline says why

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="war_room_channel")
    provider = models.CharField(max_length=20, help_text="slack or mattermost.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPENING)
    name = models.CharField(max_length=80, blank=True, help_text="The channel name asked for (kept before asking).")
    # Set before the provider is first asked for `name`: a later "name taken" for it is then the
    # channel an earlier try made (its answer lost to a timeout), adopted rather than duplicated.
    name_asked = models.BooleanField(default=False)
    channel_id = models.CharField(max_length=64, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    is_private = models.BooleanField(default=False, help_text="Restricted incidents get a private channel.")
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The sweeper: rooms still to open whose retry is due.
            models.Index(fields=["next_attempt_at"], condition=Q(state="opening"), name="war_room_retry_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "channel_id"], condition=~Q(channel_id=""), name="war_room_one_per_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.name or '…'} ({self.get_state_display()})"


class WarRoomMember(models.Model):
    """Someone Vigil brought into a war room (or tried to): invited once, even when they are paged
    again or take another role."""

    war_room = models.ForeignKey(WarRoom, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    chat_user_id = models.CharField(max_length=64, blank=True, help_text="The provider's member id.")
    invited_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["war_room", "user"], name="war_room_member_once")]


class ChatWorkspace(models.Model):
    """The chat workspace war rooms open in, set in the admin. When this one row exists it
    overrides the VIGIL_CHAT_PROVIDER / VIGIL_SLACK_* / VIGIL_MATTERMOST_* / VIGIL_WAR_ROOM_*
    settings (comms/warroom/workspace.py). The bot token is written, never shown back."""

    class Provider(models.TextChoices):
        NONE = "none", "None (no war rooms)"
        SLACK = "slack", "Slack"
        MATTERMOST = "mattermost", "Mattermost"

    key = models.CharField(max_length=10, default="default", unique=True, editable=False)  # one row
    provider = models.CharField(max_length=12, choices=Provider.choices, default=Provider.NONE)
    bot_token = models.CharField(max_length=500, blank=True, editable=False)
    slack_api_url = models.URLField(
        "Slack API URL", blank=True, help_text="Empty: https://slack.com/api/ (or VIGIL_SLACK_API_URL)."
    )
    workspace_url = models.URLField(
        "Slack workspace URL", blank=True, help_text="For channel links, e.g. https://acme.slack.com."
    )
    mattermost_url = models.URLField("Mattermost server", blank=True, help_text="e.g. https://chat.example.com.")
    mattermost_team_id = models.CharField("Mattermost team id", max_length=64, blank=True)
    mattermost_team_name = models.CharField(
        "Mattermost team name", max_length=64, blank=True, help_text="For channel links (empty: the id)."
    )
    channel_name_template = models.CharField(
        max_length=200,
        default="inc-{number}-{slug}",
        help_text="Placeholders: {number}, {reference}, {slug} (the title's), {date} (of the declaration).",
    )
    archive_on_close = models.BooleanField(default=True, help_text="Archive the war room when the incident is closed.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "chat workspace"

    def __str__(self) -> str:
        return f"Chat workspace: {self.get_provider_display()}"

    def clean(self) -> None:
        from .warroom.naming import validate_template

        errors: dict[str, list[str]] = {}
        try:
            validate_template(self.channel_name_template)
        except ValidationError as exc:
            errors["channel_name_template"] = exc.messages
        if self.provider != self.Provider.NONE and not self.bot_token:
            errors.setdefault("provider", []).append(f"{self.get_provider_display()} needs a bot token: enter it below.")
        if self.provider == self.Provider.MATTERMOST:
            if not self.mattermost_url:
                errors["mattermost_url"] = ["Mattermost needs its server's address."]
            if not self.mattermost_team_id:
                errors["mattermost_team_id"] = ["Mattermost needs the id of the team channels are made in."]
        if errors:
            raise ValidationError(errors)
