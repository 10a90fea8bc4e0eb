"""Seed the default response matrix (SEV-1…SEV-4) and the incident types of the procedures."""

from django.db import migrations


def seed(apps, schema_editor):
    from incidents.seed import INCIDENT_TYPES, SEVERITIES

    SeverityLevel = apps.get_model("incidents", "SeverityLevel")
    IncidentType = apps.get_model("incidents", "IncidentType")
    for row in SEVERITIES:
        SeverityLevel.objects.update_or_create(name=row["name"], defaults=row)
    for row in INCIDENT_TYPES:
        IncidentType.objects.update_or_create(slug=row["slug"], defaults=row)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
