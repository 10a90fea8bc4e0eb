"""Static files when `runserver` does not serve them (DEBUG off): the CSS and scripts that
`manage.py collectstatic` wrote to STATIC_ROOT, from Vigil's own origin, so the admin and the
API docs need nothing from the internet. A proxy in front may serve STATIC_ROOT itself
(DJANGO_SERVE_STATIC=0); either way no page depends on a CDN."""

from django.conf import settings
from django.views.static import serve

# Collected files keep their names across releases (no hashed names), so browsers revalidate
# after an hour rather than keep an old stylesheet for good.
MAX_AGE_SECONDS = 3600


def static_file(request, path: str):
    """One file under STATIC_ROOT; `serve` refuses paths that leave it and lists no directories."""
    response = serve(request, path, document_root=settings.STATIC_ROOT)
    response["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
    return response
