"""What the post-mortem and action-item pages share: which post-mortems a user may see, and how
their text fields are edited."""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from incidents import selectors

from ..models import PostMortem

TEXT_BOXES = {
    models.TextField: {"widget": admin.widgets.AdminTextareaWidget(attrs={"rows": 3})},
    models.URLField: {"assume_scheme": "https"},
}


def visible_postmortems(user):
    """The post-mortems of the incidents `user` may see (`incidents.selectors`): restricted ones stay hidden."""
    return PostMortem.objects.filter(incident__in=selectors.visible_incidents(user))
