"""Post-mortem due dates as a policy per severity: the draft, the review and the publication each
due an offset in business days or in hours, bounded (0–60 business days, 1–1440 hours).

`postmortem_draft_business_days` becomes `postmortem_draft_due`, counted in business days, its
values kept: an unset one takes the default it stood for (5), one beyond the new bound the bound
(60). The review and the publication take the offsets that were fixed until now, 2 and 5 business
days after the draft. Going back, a draft counted in hours reads as unset (the default).
"""

from django.db import migrations, models

# As they stood when this migration was written (not imported from the models, which may move on).
DEFAULT_DRAFT_BUSINESS_DAYS = 5
MOST_BUSINESS_DAYS = 60
UNITS = [("business_days", "business days"), ("hours", "hours")]
STEPS = ("draft", "review", "publish")
# The fields' help texts, as the model had them.
BOUNDS = "0 to 60 business days, or 1 to 1440 hours"
AFTER_THE_DRAFT = (
    "this long after the draft's due date: business days after that day (0: the same day), or hours from "
    "the end of that day (24 h: the day after)."
)
DRAFT = (
    "The draft is due this long after the incident's resolution. Business days: the team's working days less "
    "its public holidays and closed days, counted from the day of the resolution in the owner's zone (0: that "
    "day). Hours: due on the day the last hour ends, in the owner's zone."
)


def carry_over(apps, schema_editor):
    SeverityLevel = apps.get_model("incidents", "SeverityLevel")
    SeverityLevel.objects.filter(postmortem_draft_due=None).update(postmortem_draft_due=DEFAULT_DRAFT_BUSINESS_DAYS)
    SeverityLevel.objects.filter(postmortem_draft_due__gt=MOST_BUSINESS_DAYS).update(postmortem_draft_due=MOST_BUSINESS_DAYS)


def carry_back(apps, schema_editor):
    SeverityLevel = apps.get_model("incidents", "SeverityLevel")
    SeverityLevel.objects.filter(postmortem_draft_unit="hours").update(postmortem_draft_due=None)


def in_bounds(step: str) -> models.CheckConstraint:
    count, unit = f"postmortem_{step}_due", f"postmortem_{step}_unit"
    return models.CheckConstraint(
        condition=models.Q(**{unit: "business_days", f"{count}__gte": 0, f"{count}__lte": MOST_BUSINESS_DAYS})
        | models.Q(**{unit: "hours", f"{count}__gte": 1, f"{count}__lte": 1440}),
        name=f"severity_postmortem_{step}_due_in_bounds",
    )


def unit(verbose_name: str) -> models.CharField:
    return models.CharField(choices=UNITS, default="business_days", max_length=13, verbose_name=verbose_name)


def count(default: int, verbose_name: str, help_text: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(default=default, help_text=f"{help_text} {BOUNDS}.", verbose_name=verbose_name)


def add(name: str, field) -> migrations.AddField:
    return migrations.AddField(model_name='severitylevel', name=name, field=field)


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0002_business_clocks'),
    ]

    operations = [
        migrations.RenameField(
            model_name='severitylevel',
            old_name='postmortem_draft_business_days',
            new_name='postmortem_draft_due',
        ),
        add('postmortem_draft_unit', unit('draft due counted in')),
        add('postmortem_review_due', count(2, 'post-mortem review due after', f"The review meeting is due {AFTER_THE_DRAFT}")),
        add('postmortem_review_unit', unit('review due counted in')),
        add('postmortem_publish_due', count(5, 'post-mortem published after', f"The post-mortem is due published {AFTER_THE_DRAFT}")),
        add('postmortem_publish_unit', unit('publication due counted in')),
        migrations.RunPython(carry_over, carry_back),
        migrations.AlterField(
            model_name='severitylevel',
            name='postmortem_draft_due',
            field=count(5, 'post-mortem draft due after', DRAFT),
        ),
        *(migrations.AddConstraint(model_name='severitylevel', constraint=in_bounds(step)) for step in STEPS),
    ]
