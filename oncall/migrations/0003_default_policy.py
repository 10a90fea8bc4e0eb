"""Seed the default escalation policy from the procedures' matrix (targets are filled in by operators)."""

from django.db import migrations


def seed(apps, schema_editor):
    from oncall.seed import DEFAULT_LEVELS, DEFAULT_POLICY_NAME

    Policy = apps.get_model("oncall", "EscalationPolicy")
    Level = apps.get_model("oncall", "EscalationLevel")
    Delay = apps.get_model("oncall", "EscalationDelay")
    policy, created = Policy.objects.get_or_create(
        name=DEFAULT_POLICY_NAME,
        defaults={
            "is_default": True,
            "loop_count": 3,
            "description": "On-call engineer → team lead → engineering manager → director, with the "
            "delays of the response matrix. Used by services without a policy of their own.",
        },
    )
    if not created:
        return
    for position, (name, cells) in enumerate(DEFAULT_LEVELS, 1):
        level = Level.objects.create(policy=policy, position=position, name=name)
        for rank, (delay, business_hours) in cells.items():
            Delay.objects.create(level=level, severity_rank=rank, delay=delay, business_hours=business_hours)


class Migration(migrations.Migration):
    dependencies = [("oncall", "0002_schedules_and_policies")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
