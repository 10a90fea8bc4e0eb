"""Vigil works without the internet, and no page leaks a request to another origin: every page
the admin registers, the status page and the API docs load in a real browser (Debian's
Chromium) with every request that leaves 127.0.0.1/localhost aborted and recorded."""

import importlib
import inspect
import io
from urllib.parse import urlsplit

import factory
import pytest
from django.contrib import admin
from django.urls import reverse

from tests.browser import BROWSER_TESTS, browser  # noqa: F401
from tests.commands import run_command
from tests.oncall.factories import UserFactory

pytestmark = BROWSER_TESTS

PASSWORD = "correct-horse-battery"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
FACTORY_MODULES = ["tests.oncall.factories", "tests.incidents.factories", "tests.comms.factories", "tests.postmortems.factories"]


class Offline:
    """A browser context that aborts every request leaving Vigil's origin, and remembers them,
    the scripts' errors and the console's error lines."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.page.on("pageerror", lambda error: self.errors.append(f"{self.page.url}: {error}"))
        self.page.on("console", self._console)

    def _route(self, route):
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.foreign.append(f"{self.page.url} → {url}")
            route.abort()

    def _console(self, message):
        if message.type == "error":
            self.errors.append(f"{self.page.url}: {message.text}")

    def open(self, url: str) -> int:
        # Every stylesheet, script, image and font a page names is requested before "load".
        return self.page.goto(url, wait_until="load").status


@pytest.fixture
def offline(browser):
    session = Offline(browser)
    yield session
    session.context.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_api_docs_work_without_the_internet(live_server, offline):
    assert offline.open(f"{live_server.url}/api/v1/docs") == 200

    operations = offline.page.locator(".opblock-summary-path")
    operations.first.wait_for()
    paths = set(operations.all_inner_texts())
    assert "/api/v1/incidents" in {p.replace("\u200b", "") for p in paths}
    assert offline.page.locator(".info .title").inner_text().startswith("Vigil API")
    assert offline.foreign == [] and offline.errors == []


def factories_by_model() -> dict:
    found = {}
    for name in FACTORY_MODULES:
        for _, cls in inspect.getmembers(importlib.import_module(name), inspect.isclass):
            if issubclass(cls, factory.django.DjangoModelFactory) and cls._meta.model is not None:
                found.setdefault(cls._meta.model, cls)
    return found


def admin_pages(user) -> tuple[list[str], list[str]]:
    """Every page of every registered ModelAdmin a superuser can open (the list, the add page if
    adding is allowed, one object's page), and the models with no object to show."""
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    factories = factories_by_model()
    pages, missing = [reverse("admin:index")], []
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        pages.append(reverse("admin:%s_%s_changelist" % info))
        if model_admin.has_add_permission(request):
            pages.append(reverse("admin:%s_%s_add" % info))
        obj = model._default_manager.order_by("pk").first()
        if obj is None and model in factories:
            obj = factories[model]()
        if obj is None:
            missing.append(model._meta.label)
        else:
            pages.append(reverse("admin:%s_%s_change" % info, args=[obj.pk]))
    return pages, missing


@pytest.mark.timeout(300)  # about 80 pages at ~1 s each
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_page_loads_anything_from_another_origin(live_server, offline, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    run_command("seed_demo", stderr=io.StringIO())
    run_command("seed_comms_demo")
    run_command("seed_postmortems_demo")
    inspector = UserFactory(username="inspector", is_superuser=True, password=PASSWORD)
    pages, missing = admin_pages(inspector)
    assert missing == [], "no object to open the change page of; add a factory for these models"
    pages += ["/status/"]

    page = offline.page
    offline.open(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "inspector")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    failed = [(path, status) for path in pages if (status := offline.open(f"{live_server.url}{path}")) >= 400]

    # The docs fetch their OpenAPI schema after "load": wait until it has drawn the operations.
    offline.open(f"{live_server.url}/api/v1/docs")
    page.locator(".opblock-summary-path").first.wait_for()

    assert len(pages) > 50
    assert failed == []
    assert offline.foreign == []
    assert offline.errors == []
