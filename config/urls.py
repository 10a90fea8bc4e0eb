"""URL map: the admin is the operator's UI; the JSON API lives under /api/v1/; /metrics and /health
at the root."""

import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from comms.observability import views as observability

from .api import api
from .static import static_file

admin.site.site_header = "Vigil"
admin.site.site_title = "Vigil"
admin.site.index_title = "Incident response"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("oncall/", include("oncall.urls")),
    # Prometheus (bearer token and/or allowed networks) and load-balancer checks (no authentication).
    path("metrics", observability.metrics, name="metrics"),
    path("health", observability.health, name="health"),
    path("health/live", observability.live, name="health-live"),
    path("", include("comms.urls")),
]

# With DEBUG on, runserver serves static files before any URL is resolved; otherwise these do.
if settings.SERVE_STATIC:
    urlpatterns.append(re_path(rf"^{re.escape(settings.STATIC_URL.strip('/'))}/(?P<path>.+)$", static_file))

# An admin page someone may not open names the missing permission and who grants it.
handler403 = "oncall.admin.forbidden.forbidden"
