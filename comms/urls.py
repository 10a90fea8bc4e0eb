"""Public comms pages: the status page, acknowledge links, and the inbound SMS webhook."""

from django.urls import path

app_name = "comms"

urlpatterns: list = []
