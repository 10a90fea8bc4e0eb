"""Shared fixtures."""

import io

import pytest
from django.core.cache import cache

from tests.commands import run_command
from tests.incidents.factories import IncidentFactory, ServiceFactory, severity
from tests.oncall.factories import UserFactory


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests log users in all the time; a slow hasher only costs time here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def development_mail(settings, tmp_path_factory):
    """With DEBUG on, SMS and chat default to files in VIGIL_MAIL_DIR (comms/backends/mailbox.py):
    the tests' go to a temporary directory, never into var/."""
    settings.VIGIL_MAIL_DIR = str(tmp_path_factory.getbasetemp() / "mail")


@pytest.fixture
def as_user(client):
    """`as_user(person)` is the test client signed in as that person."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def demo(db, settings, tmp_path):
    """The demo data `manage.py seed_demo` makes, its login file written to a temporary VAR_DIR."""
    settings.VAR_DIR = tmp_path
    run_command("seed_demo", stderr=io.StringIO())


@pytest.fixture
def commander(db):
    return UserFactory(username="ic", commander=True)


@pytest.fixture
def responder(db):
    return UserFactory(username="responder", responder=True)


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer", viewer=True)


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", manager=True)


@pytest.fixture
def sev1(db):
    return severity("SEV-1")


@pytest.fixture
def sev2(db):
    return severity("SEV-2")


@pytest.fixture
def service(db):
    return ServiceFactory(name="Checkout API", slug="checkout-api", customer_facing=True)


@pytest.fixture
def incident(db, commander, service):
    return IncidentFactory(actor=commander, services=[service], commander=commander)


@pytest.fixture
def fresh_rate_windows():
    """API keys are rate limited per minute in the cache; a module that makes many keyed requests
    (the API tests, search, export) asks for this (`pytest.mark.usefixtures`), so no test spends
    another's requests. Not autouse: a test that points the cache at a dead Redis must not have it
    cleared afterwards."""
    cache.clear()
    yield
    cache.clear()
