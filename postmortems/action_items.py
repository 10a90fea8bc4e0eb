"""Changing an action item (status, owner, due date): one function, one transaction, with the
completion time stamped when it is finished and cleared when it is taken up again."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .models import ActionItem

_UNSET = object()


@transaction.atomic
def update_action_item(item: ActionItem, *, status=_UNSET, owner=_UNSET, due_date=_UNSET) -> ActionItem:
    """Apply the given changes (leave a field out to keep it; `owner`/`due_date` None clears them)."""
    item = ActionItem.objects.select_for_update(of=("self",)).get(pk=item.pk)
    fields = []
    if status is not _UNSET and status != item.status:
        was_finished = item.is_finished
        item.status = status
        fields.append("status")
        if item.is_finished and not was_finished:
            item.completed_at = timezone.now()
            fields.append("completed_at")
        elif not item.is_finished and was_finished:
            item.completed_at = None
            fields.append("completed_at")
    if owner is not _UNSET and (owner.pk if owner else None) != item.owner_id:
        item.owner = owner
        fields.append("owner")
    if due_date is not _UNSET and due_date != item.due_date:
        item.due_date = due_date
        fields.append("due_date")
    if fields:
        item.save(update_fields=fields)
    return item
