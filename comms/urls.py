"""Public comms pages: the status page, acknowledge links, and the inbound SMS webhook."""

from django.urls import path

from . import ack_views, status_views

app_name = "comms"

urlpatterns: list = [
    path("status/", status_views.status_page, name="status"),
    path("status.json", status_views.status_json, name="status-json"),
    path("status/day/<str:date>/", status_views.status_day, name="status-day"),
    path("status/day/<str:date>.json", status_views.status_day_json, name="status-day-json"),
    path("ack/<str:token>/", ack_views.ack, name="ack"),
    path("sms/inbound/", ack_views.sms_inbound, name="sms-inbound"),
]
