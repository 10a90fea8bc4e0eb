"""How long each escalation level lasts once engaged: page until acknowledged, or inform until resolved.

New levels page until acknowledged. Existing levels, in every policy (the default policy
included): the first level of each policy (the on-call engineer) pages until acknowledged,
every later level (team lead, managers, director) informs until resolved — so an acknowledged
incident no longer pages management as it runs on.
"""

from django.db import migrations, models

UNTIL_ACKNOWLEDGED, UNTIL_RESOLVED = "until_acknowledged", "until_resolved"


def set_lasts(apps, schema_editor):
    Level = apps.get_model("oncall", "EscalationLevel")
    first_of = {}
    for pk, policy_id, position in Level.objects.order_by("policy_id", "position").values_list("pk", "policy_id", "position"):
        first_of.setdefault(policy_id, pk)
    Level.objects.exclude(pk__in=first_of.values()).update(lasts=UNTIL_RESOLVED)
    Level.objects.filter(pk__in=first_of.values()).update(lasts=UNTIL_ACKNOWLEDGED)


class Migration(migrations.Migration):
    dependencies = [("oncall", "0006_settings_bounds_and_working_days")]

    operations = [
        migrations.AddField(
            model_name="escalationlevel",
            name="lasts",
            field=models.CharField(
                choices=[("until_acknowledged", "Page until acknowledged"), ("until_resolved", "Inform until resolved")],
                default="until_acknowledged",
                help_text="Page until acknowledged (on-call engineers: re-paged until someone acknowledges), or inform "
                "until resolved (management: brought in by how long the incident has run; after acknowledgement "
                "told who acknowledged and who commands, never paged).",
                max_length=20,
            ),
        ),
        migrations.RunPython(set_lasts, migrations.RunPython.noop),
    ]
