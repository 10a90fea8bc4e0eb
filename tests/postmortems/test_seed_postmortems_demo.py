"""`manage.py seed_postmortems_demo` after `seed_demo`: a written post-mortem to look at."""

import io

import pytest
from django.core.management import call_command

from postmortems import export
from postmortems.models import PostMortem


@pytest.fixture
def seeded(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
    out = io.StringIO()
    call_command("seed_postmortems_demo", stdout=out)
    return out.getvalue()


def test_the_card_payments_post_mortem_is_written_with_whys_and_action_items_in_every_state(seeded):
    assert "written" in seeded
    postmortem = PostMortem.objects.get(incident__title__startswith="Card payments failing")
    assert postmortem.whys.count() == 5
    items = list(postmortem.action_items.all())
    assert {i.status for i in items} == {"done", "in_progress", "open"}
    assert any(i.is_overdue for i in items) and not all(i.is_overdue for i in items)
    document = export.to_markdown(postmortem)
    assert "Why did card payments fail?" in document and "Validate pooled connections" in document


def test_it_runs_once(seeded):
    out = io.StringIO()
    call_command("seed_postmortems_demo", stdout=out)
    assert "already written" in out.getvalue()
    assert PostMortem.objects.get(incident__title__startswith="Card payments failing").whys.count() == 5
