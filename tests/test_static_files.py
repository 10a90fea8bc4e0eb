"""Static files come from Vigil's own origin: the API docs name no CDN, and with DEBUG off Vigil
serves what `collectstatic` wrote (runserver serves them itself while DEBUG is on)."""

import re

import pytest
from django.core.management import call_command


@pytest.fixture
def collected(settings, tmp_path):
    settings.STATIC_ROOT = str(tmp_path / "static")
    call_command("collectstatic", interactive=False, verbosity=0)
    return tmp_path / "static"


def test_the_api_docs_name_only_vigils_own_static_files(client):
    html = client.get("/api/v1/docs").content.decode()

    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/ninja/swagger-ui-bundle.js" in sources and "/static/ninja/swagger-ui.css" in sources
    assert all(source.startswith("/") and not source.startswith("//") for source in sources), sources


def test_collected_files_are_served_without_debug(client, collected):
    response = client.get("/static/ninja/swagger-ui-bundle.js")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == (collected / "ninja" / "swagger-ui-bundle.js").read_bytes()
    assert response["Cache-Control"] == "public, max-age=3600"
    assert client.get("/static/admin/css/base.css").status_code == 200


def test_only_files_under_the_static_root_are_served(client, collected):
    assert client.get("/static/ninja/missing.js").status_code == 404
    assert client.get("/static/admin/").status_code == 404  # no directory listings
    assert client.get("/static/%2e%2e/%2e%2e/config/settings.py").status_code in (400, 404)
