"""Every model of Vigil's apps has a factory that makes a valid row."""

import pytest
from django.apps import apps

from tests.comms import factories as comms_factories
from tests.incidents import factories as incident_factories
from tests.oncall import factories as oncall_factories
from tests.postmortems import factories as postmortem_factories

FACTORIES = {
    factory._meta.model: factory
    for module in (incident_factories, oncall_factories, postmortem_factories, comms_factories)
    for factory in vars(module).values()
    if isinstance(factory, type) and hasattr(factory, "_meta") and getattr(factory._meta, "model", None)
}
VIGIL_MODELS = [m for label in ("oncall", "incidents", "postmortems", "comms") for m in apps.get_app_config(label).get_models()]


@pytest.mark.parametrize("model", VIGIL_MODELS, ids=lambda m: m._meta.label)
def test_every_model_has_a_factory(model):
    assert model in FACTORIES, f"add a factory for {model._meta.label} in tests/{model._meta.app_label}/factories.py"


@pytest.mark.django_db
@pytest.mark.parametrize("model", VIGIL_MODELS, ids=lambda m: m._meta.label)
def test_factories_make_valid_rows(model):
    obj = FACTORIES[model]()
    obj.full_clean()
    assert model.objects.filter(pk=obj.pk).exists()
