"""The variables templates use: the documented table against the shipped templates and the real
context, the response team and participants (a list templates loop over, read-only), and what
a restricted incident's words still cannot reach."""

from __future__ import annotations

import pytest
from django.template.base import FilterExpression, Node, NodeList, Variable
from django.template.defaulttags import RegroupNode, TemplateLiteral
from django.template.smartif import TokenBase

from comms import defaults, templating
from comms.models import Audience, Channel
from incidents import actions
from incidents.models import Incident, Participant, Source
from tests.incidents.factories import IncidentFactory, ServiceFactory, severity
from tests.oncall.factories import UserFactory

Role = Participant.Role

# --- What a template reads ---------------------------------------------------------------------


def _expressions(value):
    """The filter expressions in one attribute of a node: a variable and its filters' arguments,
    an {% if %}'s operands, a {% for %}'s sequence, a {% with %}'s values."""
    if isinstance(value, FilterExpression):
        yield value
    elif isinstance(value, TemplateLiteral):
        yield value.value
    elif isinstance(value, TokenBase):  # an {% if %} operator: its operands
        for operand in (getattr(value, "first", None), getattr(value, "second", None)):
            yield from _expressions(operand)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _expressions(item)
    elif isinstance(value, (list, tuple)) and not isinstance(value, NodeList):
        for item in value:
            yield from _expressions(item)


def _root(variable) -> str | None:
    """`person` of `person.name`; None for a literal ('to follow', 60)."""
    return variable.lookups[0] if isinstance(variable, Variable) and variable.lookups else None


def names_used(source: str) -> set[str]:
    """The context names a template reads (the first part of each dotted name), less the names
    its own tags bind ({% for person in … %}, {% with x=… %}, `as` names, `forloop`)."""
    read, bound = set(), {"forloop"}
    for node in templating.compile_template(source).nodelist.get_nodes_by_type(Node):
        bound.update(getattr(node, "loopvars", ()))
        bound.update(getattr(node, "extra_context", {}))
        bound.update(filter(None, (getattr(node, name, None) for name in ("asvar", "variable_name", "var_name"))))
        for name, value in vars(node).items():
            if isinstance(node, RegroupNode) and name == "expression":
                continue  # read from each item of the target, not from the context
            for expression in _expressions(value):
                read.add(_root(expression.var))
                read.update(_root(arg) for _, args in expression.filters for lookup, arg in args if lookup)
    return read - bound - {None}


def test_names_used_finds_every_place_a_template_reads_a_variable():
    source = (
        "{{ a|default:b }}{% if c and not d or e == 'x' %}{% endif %}{% for f in g %}{{ f.name }}{{ h }}{% endfor %}"
        "{% with i=j %}{{ i }}{% endwith %}{% firstof k 'none' %}{% cycle l m as n %}{{ n }}{{ 'literal' }}"
        "{% regroup o by role as p %}"
    )
    assert names_used(source) == {"a", "b", "c", "d", "e", "g", "h", "j", "k", "l", "m", "o"}


@pytest.mark.parametrize("cell", sorted(defaults.DEFAULTS), ids="/".join)
def test_every_shipped_template_uses_only_documented_variables_and_renders_with_all_of_them(cell):
    subject, body = defaults.DEFAULTS[cell]
    unknown = (names_used(subject) | names_used(body)) - set(templating.ALL_VARIABLES)
    assert not unknown, f"{'/'.join(cell)} reads variables the template page does not document: {sorted(unknown)}"
    every = templating.sample_context()
    assert set(every) == set(templating.ALL_VARIABLES)
    rendered = templating.render_text(subject, body, cell[2], every)
    text = rendered.subject + rendered.body
    assert rendered.body.strip() and "{{" not in text and "{%" not in text


def test_an_undocumented_variable_is_found():
    assert names_used("{{ ref }}: {{ comander }}{% if warroom %}{% endif %}") - set(templating.ALL_VARIABLES) == {
        "comander", "warroom",
    }


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", first_name="Alice", last_name="Smith", email="alice@example.com", commander=True)


@pytest.fixture
def people(db):
    return {
        name: UserFactory(username=name.lower(), first_name=name, last_name=last, email=f"{name.lower()}@example.com")
        for name, last in (("Bob", "Okafor"), ("Carol", "Jones"), ("Dana", "Lee"), ("Erin", "Walsh"))
    }


@pytest.fixture
def team_incident(alice, people):
    """Alice commands and acknowledged (so she is a responder too); Bob is technical lead and a
    subject-matter expert; Carol responds; Dana was scribe and left; Erin joined as a responder
    before Carol but is communications lead now."""
    incident = IncidentFactory(
        title="Checkout API returning errors", severity=severity("SEV-1"), actor=alice, commander=alice,
        services=[ServiceFactory(name="Checkout API", slug="checkout-api")],
    )
    actions.acknowledge(incident, actor=alice, source=Source.ADMIN)
    for name, role in (("Erin", Role.RESPONDER), ("Carol", Role.RESPONDER), ("Bob", Role.SUBJECT_MATTER_EXPERT),
                       ("Bob", Role.TECHNICAL_LEAD), ("Dana", Role.SCRIBE), ("Erin", Role.COMMUNICATIONS_LEAD)):
        actions.assign_role(incident, people[name], role, actor=alice, source=Source.ADMIN)
    scribe = Participant.objects.get(incident=incident, role=Role.SCRIBE)
    actions.release_role(scribe, actor=alice, source=Source.ADMIN)
    Incident.objects.filter(pk=incident.pk).update(
        users_affected_estimated=1200, regions=["eu-west-1"], revenue_impact="high", impact_description="Card payments fail.",
    )
    incident.refresh_from_db()
    return incident


def test_the_real_context_holds_every_documented_variable_and_nothing_else(team_incident, alice):
    event = team_incident.timeline.select_related("actor").latest("occurred_at", "pk")
    for ctx in (templating.context(team_incident, event=event, recipient=alice), templating.context(None)):
        assert set(ctx) == set(templating.ALL_VARIABLES)
        # Each documented sample is of the kind the real value is (a list where the real one is a list).
        assert {name: type(value) for name, value in ctx.items()} == {
            name: type(value) for name, value in templating.sample_context().items()
        }


# --- The response team and the participants -------------------------------------------------------


def test_the_response_team_names_each_current_participant_once_with_their_roles(team_incident):
    ctx = templating.context(team_incident)
    assert ctx["response_team"] == (
        "Alice Smith (Incident commander), Bob Okafor (Technical lead, Subject-matter expert), "
        "Erin Walsh (Communications lead), Carol Jones (Responder)"
    )
    assert [dict(person) for person in ctx["participants"]] == [
        {"name": "Alice Smith", "role": "Incident commander", "email": "alice@example.com"},
        {"name": "Bob Okafor", "role": "Technical lead, Subject-matter expert", "email": "bob@example.com"},
        {"name": "Erin Walsh", "role": "Communications lead", "email": "erin@example.com"},
        {"name": "Carol Jones", "role": "Responder", "email": "carol@example.com"},
    ]


def test_templates_loop_over_the_participants_and_print_them(team_incident):
    ctx = templating.context(team_incident)
    body = (
        "{% for person in participants %}{{ person.name }} <{{ person.email }}> – {{ person.role }}\n{% endfor %}"
        "{{ participants|length }} people: {{ participants }}. First: {{ participants.0 }}."
    )
    assert templating.validate("", body, Channel.SMS) == []
    rendered = templating.render_text("", body, Channel.EMAIL, ctx)
    assert rendered.body.splitlines()[:2] == [
        "Alice Smith <alice@example.com> – Incident commander",
        "Bob Okafor <bob@example.com> – Technical lead, Subject-matter expert",
    ]
    assert rendered.body.splitlines()[-1] == f"4 people: {ctx['response_team']}. First: Alice Smith (Incident commander)."


def test_a_template_cannot_change_the_participants_other_recipients_share(team_incident):
    base = templating.base_context(team_incident)
    ctx = templating.context(team_incident, base=base)
    body = "{{ participants.pop }}{{ participants.0.clear }}{{ participants.0.popitem }}{% for p in participants %}{{ p.update }}{% endfor %}"
    assert templating.render_text("", body, Channel.EMAIL, ctx).body == ""
    assert base["participants"] == ctx["participants"] and len(ctx["participants"]) == 4
    assert dict(ctx["participants"][0]) == {"name": "Alice Smith", "role": "Incident commander", "email": "alice@example.com"}


def test_participants_cannot_mention_a_chat_room(team_incident, people):
    people["Carol"].first_name = "<!channel>"
    people["Carol"].save()
    ctx = templating.context(team_incident)
    chat = templating.render_text("", "{% for p in participants %}{{ p.name }};{% endfor %} {{ response_team }}", Channel.CHAT, ctx)
    assert "<!channel>" not in chat.body and chat.body.count("&lt;!channel&gt; Jones") == 2


# --- Restricted incidents ----------------------------------------------------------------------------


def test_restricted_words_gain_no_people_or_impact_but_the_next_update_time(team_incident, alice):
    Incident.objects.filter(pk=team_incident.pk).update(is_restricted=True)
    ctx = templating.context(team_incident, recipient=alice)
    restricted = templating.for_audience(Audience.RESTRICTED, ctx)
    for name in ("response_team", "impact", "impact_description", "users_affected_estimated", "regions", "revenue_impact"):
        assert ctx[name] and restricted[name] == "", name
    assert ctx["participants"] and restricted["participants"] == templating.Entries()
    assert restricted["services"] == ctx["services"] == "Checkout API"
    assert restricted["next_update_due"] == ctx["next_update_due"] != ""
    body = "{{ ref }}|{{ response_team }}|{% for p in participants %}{{ p.name }}{% endfor %}|{{ revenue_impact }}|{{ next_update_due }}"
    rendered = templating.render_text("", body, Channel.EMAIL, restricted)
    assert rendered.body == f"{team_incident.reference}||||{ctx['next_update_due']}"
