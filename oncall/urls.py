"""Public on-call URLs (outside the admin): the iCalendar feeds and answering a cover request from its email."""

from django.urls import path

from . import cover_views, views

app_name = "oncall"

urlpatterns = [
    path("feeds/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("cover/<str:token>/", cover_views.answer, name="cover_answer"),
]
