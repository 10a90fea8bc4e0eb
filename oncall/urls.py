"""Public on-call URLs (outside the admin): the iCalendar feeds."""

from django.urls import path

from . import views

app_name = "oncall"

urlpatterns = [
    path("feeds/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
