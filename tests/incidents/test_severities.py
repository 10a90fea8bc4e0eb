"""A typed severity read against the organisation's own levels: by name, label or rank, in any
case, spaces and hyphens aside; a refusal names the levels there are."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.errors import InvalidInput, UnknownSeverity
from incidents.models import SeverityLevel
from incidents.severities import find_leading_severity, find_severity, levels_named, severity_choices, severity_levels


def level(name, label, rank):
    return SeverityLevel(name=name, label=label, rank=rank)


P = [level("P0", "Critical", 1), level("P1", "High", 2), level("P2", "Medium", 3), level("P3", "Low", 4)]
SEV = [level("SEV-1", "Critical", 1), level("SEV-2", "High", 2)]


@pytest.mark.parametrize(
    "typed, name",
    [
        ("P0", "P0"), ("p0", "P0"), (" P 1 ", "P1"), ("p-2", "P2"),
        ("critical", "P0"), ("HIGH", "P1"), ("Medium", "P2"),
        ("1", "P0"), ("4", "P3"),
    ],
)
def test_a_name_label_or_rank_in_any_case_finds_the_level(typed, name):
    assert find_severity(typed, P).name == name


@pytest.mark.parametrize("typed", ["SEV-1", "sev1", "Sev 1", "sev_1", "SEV - 1"])
def test_spaces_hyphens_and_underscores_do_not_matter(typed):
    assert find_severity(typed, SEV).name == "SEV-1"


def test_names_come_before_labels_and_labels_before_ranks():
    levels = [level("1", "Low", 4), level("Low", "Lowest", 5), level("P0", "Critical", 1)]
    assert find_severity("1", levels).name == "1"  # the name "1", not rank 1
    assert find_severity("low", levels).name == "Low"  # the name "Low", not the label of "1"
    assert find_severity("lowest", levels).name == "Low"


def test_an_unknown_severity_is_refused_with_the_names_there_are():
    with pytest.raises(UnknownSeverity) as caught:
        find_severity("P5", P)
    assert str(caught.value) == (
        "Unknown severity 'P5'; use one of P0 (Critical), P1 (High), P2 (Medium), P3 (Low) or a rank 1–4."
    )
    assert isinstance(caught.value, InvalidInput)
    # "³" and "٣" are digits to Python but not to int(): refused, not a 500.
    for typed in ("", "   ", "0", "5", "999999", "P 0 0", "³", "٣"):
        with pytest.raises(UnknownSeverity):
            find_severity(typed, P)


def test_an_ambiguous_severity_is_refused_naming_the_candidates():
    levels = [level("P1", "High", 1), level("P2", "High", 2), level("P-3", "Low", 3), level("P3", "Lower", 4)]
    with pytest.raises(UnknownSeverity, match=r"^'high' could be P1 \(High\) or P2 \(High\); use one of P1 \(High\), "):
        find_severity("high", levels)
    with pytest.raises(UnknownSeverity, match="could be P-3 \\(Low\\) or P3 \\(Lower\\)"):
        find_severity("p3", levels)


def test_the_choices_say_a_level_named_by_its_label_once_and_uneven_ranks_one_by_one():
    levels = [level("critical", "Critical", 1), level("minor", "Minor", 3)]
    assert severity_choices(levels) == "critical, minor or a rank 1 or 3"
    assert severity_choices([]) == "no severity levels are set up yet"
    with pytest.raises(UnknownSeverity, match=r"^Unknown severity 'x'; no severity levels are set up yet\.$"):
        find_severity("x", [])


def test_a_long_typed_text_is_cut_short_in_the_refusal():
    with pytest.raises(UnknownSeverity) as caught:
        find_severity("x" * 500, P)
    assert "'" + "x" * 40 + "…'" in str(caught.value) and "x" * 41 not in str(caught.value)


@pytest.mark.parametrize(
    "text, name, rest",
    [
        ("P0 Checkout down", "P0", "Checkout down"),
        ("critical   Checkout  down", "P0", "Checkout  down"),
        ("1 2 servers down", "P0", "2 servers down"),
        ("p 1 Checkout down", "P1", "Checkout down"),
    ],
)
def test_the_leading_severity_of_free_text(text, name, rest):
    level, remainder = find_leading_severity(text, P)
    assert (level.name, remainder) == (name, rest)


def test_a_leading_severity_may_take_one_word_more_than_the_longest_name_or_label():
    levels = [level("SEV-1", "Very high", 1), level("SEV-2", "High", 2)]
    assert [(found.name, rest) for found, rest in (
        find_leading_severity("sev 1 Checkout down", levels),
        find_leading_severity("very high Checkout down", levels),
        find_leading_severity("high Checkout", levels),
        find_leading_severity("se v 1 Checkout", levels),
    )] == [("SEV-1", "Checkout down"), ("SEV-1", "Checkout down"), ("SEV-2", "Checkout"), ("SEV-1", "Checkout")]
    with pytest.raises(UnknownSeverity, match="^Unknown severity 's';"):
        find_leading_severity("s e v 1 Checkout", levels)
    # A word is always left over for what follows; the refusal is the first word's.
    with pytest.raises(UnknownSeverity, match="^Unknown severity 'sev';"):
        find_leading_severity("sev 1", levels)


@pytest.mark.django_db
def test_without_levels_given_one_query_reads_them_most_severe_first():
    with CaptureQueriesContext(connection) as queries:
        assert find_severity("sev-2").name == "SEV-2"
    assert len(queries) == 1
    assert [s.name for s in severity_levels()] == ["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
    with pytest.raises(UnknownSeverity, match=r"use one of SEV-1 \(Critical\), SEV-2 \(High\), SEV-3 \(Medium\), SEV-4 \(Low\) or a rank 1–4\.$"):
        find_severity("SEV-9")


@pytest.mark.django_db
def test_levels_named_is_a_query_matching_names_and_labels_in_any_spelling_but_never_ranks():
    SeverityLevel.objects.filter(name="SEV-3").update(label="High")
    assert {s.name for s in levels_named("sev 1")} == {"SEV-1"}
    assert {s.name for s in levels_named("CRITICAL")} == {"SEV-1"}
    assert {s.name for s in levels_named("high")} == {"SEV-2", "SEV-3"}  # a search takes every match
    assert not levels_named("1").exists() and not levels_named("  ").exists()
