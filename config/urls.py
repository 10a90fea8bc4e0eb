"""URL map: the admin is the operator's UI; the JSON API lives under /api/v1/."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from .api import api

admin.site.site_header = "Vigil"
admin.site.site_title = "Vigil"
admin.site.index_title = "Incident response"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("oncall/", include("oncall.urls")),
    path("", include("comms.urls")),
]
