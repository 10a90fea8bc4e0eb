"""`manage.py seed_postmortems_demo` after `seed_demo`: a written post-mortem to look at."""

import pytest

from postmortems import export
from postmortems.models import PostMortem
from tests.commands import run_command


@pytest.fixture
def seeded(demo):
    return run_command("seed_postmortems_demo")


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
    assert "already written" in run_command("seed_postmortems_demo")
    assert PostMortem.objects.get(incident__title__startswith="Card payments failing").whys.count() == 5
