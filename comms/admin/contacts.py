"""People's contact methods and notification rules, everyone their own: without
`comms.change_contactmethod` (or `change_notificationrule`) a person sees and edits only their
own, and the owner is always the signed-in user."""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from incidents.formatting import duration

from .. import forms
from ..models import ContactMethod, NotificationRule


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
