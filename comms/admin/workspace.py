"""The chat workspace war rooms open in (one row; it overrides the VIGIL_CHAT_PROVIDER /
VIGIL_SLACK_* / VIGIL_MATTERMOST_* settings). The bot token is written here and never shown back:
the form asks for a new one and keeps the saved one when left empty. And the war rooms themselves,
read-only: their state, attempts and last error."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import models
from django.shortcuts import redirect

from ..models import ChatWorkspace, WarRoom, WarRoomMember


def _https(field, **kwargs):
    """Addresses typed without a scheme are https (Django 6's default)."""
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class ChatWorkspaceForm(forms.ModelForm):
    new_bot_token = forms.CharField(
        label="Bot token",
        required=False,
        strip=True,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Slack: the bot's xoxb-… token; Mattermost: the bot account's access token. Never shown again; "
        "leave empty to keep the saved one.",
    )

    class Meta:
        model = ChatWorkspace
        formfield_callback = _https
        fields = [
            "provider", "new_bot_token", "channel_name_template", "archive_on_close", "workspace_url", "slack_api_url",
            "mattermost_url", "mattermost_team_id", "mattermost_team_name",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.bot_token:
            self.fields["new_bot_token"].help_text = "A token is saved. " + self.fields["new_bot_token"].help_text

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_bot_token"):
            self.instance.bot_token = cleaned["new_bot_token"]  # before the model's own checks
        return cleaned

    def _post_clean(self) -> None:
        super()._post_clean()
        # The model names the token under "provider"; say it where it is typed as well.
        if "provider" in self.errors and not self.instance.bot_token:
            self.add_error("new_bot_token", "Enter the bot token.")


@admin.register(ChatWorkspace)
class ChatWorkspaceAdmin(admin.ModelAdmin):
    form = ChatWorkspaceForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["__str__", "channel_name_template", "archive_on_close", "token_saved", "updated_at"]
    fieldsets = [
        (None, {"fields": ["provider", "new_bot_token", "channel_name_template", "archive_on_close"]}),
        ("Slack", {"fields": ["workspace_url", "slack_api_url"]}),
        ("Mattermost", {"fields": ["mattermost_url", "mattermost_team_id", "mattermost_team_name"]}),
    ]

    @admin.display(boolean=True, description="token saved")
    def token_saved(self, obj: ChatWorkspace) -> bool:
        return bool(obj.bot_token)

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not ChatWorkspace.objects.exists()

    def add_view(self, request, form_url="", extra_context=None):
        """There is one workspace: once it exists, "add" opens it."""
        row = ChatWorkspace.objects.first()
        if row is not None and self.has_view_or_change_permission(request, row):
            return redirect("admin:comms_chatworkspace_change", row.pk)
        return super().add_view(request, form_url, extra_context)


class WarRoomMemberInline(admin.TabularInline):
    model = WarRoomMember
    fields = ["user", "chat_user_id", "invited_at", "last_error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WarRoom)
class WarRoomAdmin(admin.ModelAdmin):
    """Every incident's war room as Vigil keeps it: read-only (only comms/warroom/ writes them), so
    an operator sees which rooms are still opening, why, and when the sweeper tries next."""

    list_display = ["incident", "name", "state", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["state", "provider"]
    list_select_related = ["incident__severity"]
    search_fields = ["name", "channel_id"]
    show_full_result_count = False
    inlines = [WarRoomMemberInline]
    fields = [
        "incident", "provider", "state", "name", "channel_id", "url", "is_private", "attempts", "last_error",
        "next_attempt_at", "created_at", "opened_at", "archived_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
