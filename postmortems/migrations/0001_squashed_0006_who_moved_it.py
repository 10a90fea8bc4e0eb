"""Post-mortems, as they stood before the first release: post-mortems with their timeline, five
whys and action items, and the reminders sent about them; who may do what with them.

Squashed from 0001–0006, which a database migrated before the squash has recorded: Django then
counts this migration as applied. On a fresh database it runs, after the tables:

- the post-mortem permissions of the operator groups: Incident commanders and Managers write
  post-mortems and their action items; Viewers and Responders read them;
- a repair that finds nothing on a fresh database (elidable: a later squash may drop it):
  "won't do" action items lose the completion time the API used to stamp on them (only
  "done" is completed).
"""

import django.db.models.deletion
from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

MODELS = ("postmortem", "postmortemtimelineentry", "why", "actionitem")
READ = [f"view_{m}" for m in MODELS]
WRITE = READ + [f"{verb}_{m}" for m in MODELS for verb in ("add", "change")] + [
    # Inline rows can be removed from the post-mortem page; the post-mortem itself never.
    "delete_postmortemtimelineentry", "delete_why", "delete_actionitem",
]
GROUPS = {"Viewers": READ, "Responders": READ, "Incident commanders": WRITE, "Managers": WRITE}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; this one needs them now.
    create_permissions(global_apps.get_app_config("postmortems"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="postmortems", codename__in=codenames))


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="postmortems"))


def clear_wont_do_completion(apps, schema_editor):
    apps.get_model("postmortems", "ActionItem").objects.filter(status="wont_do").exclude(completed_at=None).update(
        completed_at=None
    )


class Migration(migrations.Migration):

    replaces = [
        ("postmortems", "0001_initial"),
        ("postmortems", "0002_reminders_sent"),
        ("postmortems", "0003_permissions"),
        ("postmortems", "0004_action_items_undated_last"),
        ("postmortems", "0005_wont_do_is_not_completed"),
        ("postmortems", "0006_who_moved_it"),
    ]

    initial = True

    dependencies = [
        ("incidents", "0001_squashed_0011_time_spent_resolved"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PostMortem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('incident', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='postmortem', to='incidents.incident')),
                ('owner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='postmortems_owned', to=settings.AUTH_USER_MODEL)),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('in_review', 'In review'), ('published', 'Published')], default='draft', editable=False, max_length=12)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('draft_due', models.DateField(help_text="The draft is written by this day (the owner's calendar).")),
                ('review_due', models.DateField(help_text='Reviewed by this day.')),
                ('publish_due', models.DateField(help_text='Published by this day.')),
                ('published_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('published_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('submitted_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='last submitted for review')),
                ('submitted_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='last submitted by')),
                ('returned_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='last sent back to draft')),
                ('returned_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='last sent back by')),
                ('summary', models.TextField(blank=True)),
                ('users_affected', models.TextField(blank=True)),
                ('impact_duration', models.TextField(blank=True, help_text='Empty: computed from the incident.')),
                ('business_impact', models.TextField(blank=True)),
                ('immediate_cause', models.TextField(blank=True)),
                ('root_cause', models.TextField(blank=True)),
                ('contributing_technical', models.TextField(blank=True, verbose_name='technical contributing factors')),
                ('contributing_process', models.TextField(blank=True, verbose_name='process contributing factors')),
                ('went_well', models.TextField(blank=True, verbose_name='what went well')),
                ('could_improve', models.TextField(blank=True, verbose_name='what could be improved')),
                ('lessons_learned', models.TextField(blank=True)),
                ('review_meeting_at', models.DateTimeField(blank=True, null=True)),
                ('review_meeting_minutes', models.PositiveSmallIntegerField(default=60)),
            ],
            options={
                'verbose_name': 'post-mortem',
                'ordering': ['-created_at', '-pk'],
                'indexes': [models.Index(fields=['status', 'draft_due'], name='postmortem_status_draft_due')],
                'constraints': [models.CheckConstraint(condition=models.Q(('published_at__isnull', True), ('status', 'published'), _connector='OR'), name='postmortem_published_at_only_when_published')],
            },
        ),
        migrations.CreateModel(
            name='PostMortemTimelineEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('postmortem', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='timeline_entries', to='postmortems.postmortem')),
                ('event', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='incidents.timelineevent')),
                ('occurred_at', models.DateTimeField()),
                ('text', models.TextField()),
                ('hidden', models.BooleanField(default=False, help_text='Left out of the published document.')),
                ('annotation', models.TextField(blank=True)),
                ('position', models.PositiveIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'timeline entry',
                'verbose_name_plural': 'timeline entries',
                'ordering': ['position', 'occurred_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='Why',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('postmortem', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='whys', to='postmortems.postmortem')),
                ('position', models.PositiveSmallIntegerField()),
                ('question', models.TextField()),
                ('answer', models.TextField(blank=True)),
            ],
            options={
                'verbose_name': 'why',
                'verbose_name_plural': 'five whys',
                'ordering': ['position', 'pk'],
                'constraints': [models.UniqueConstraint(fields=('postmortem', 'position'), name='why_unique_position')],
            },
        ),
        migrations.CreateModel(
            name='ActionItem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('postmortem', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='action_items', to='postmortems.postmortem')),
                ('description', models.TextField()),
                ('owner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='postmortem_action_items', to=settings.AUTH_USER_MODEL)),
                ('due_date', models.DateField(blank=True, null=True)),
                ('priority', models.CharField(choices=[('high', 'High'), ('medium', 'Medium'), ('low', 'Low')], default='medium', max_length=10)),
                ('status', models.CharField(choices=[('open', 'Open'), ('in_progress', 'In progress'), ('done', 'Done'), ('wont_do', "Won't do")], default='open', max_length=12)),
                ('horizon', models.CharField(choices=[('immediate', 'Immediate'), ('short_term', 'Short term'), ('long_term', 'Long term')], default='short_term', max_length=12)),
                ('completion_criteria', models.TextField(blank=True)),
                ('ticket_url', models.URLField(blank=True, max_length=500)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('completed_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'verbose_name': 'action item',
                'ordering': [models.OrderBy(models.F('due_date'), nulls_last=True), 'pk'],
                'indexes': [models.Index(condition=models.Q(('status__in', ['open', 'in_progress'])), fields=['due_date'], name='actionitem_open_due'), models.Index(fields=['owner', 'status'], name='actionitem_owner_status')],
            },
        ),
        migrations.CreateModel(
            name='ReminderSent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('postmortem_due_soon', 'Post-mortem due soon'), ('postmortem_overdue', 'Post-mortem overdue'), ('action_item_due_soon', 'Action item due soon'), ('action_item_overdue', 'Action item overdue')], max_length=30)),
                ('postmortem', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='postmortems.postmortem')),
                ('action_item', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='postmortems.actionitem')),
                ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('sent_on', models.DateField(help_text='The UTC day the reminder went out.')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'verbose_name': 'reminder sent',
                'verbose_name_plural': 'reminders sent',
                'constraints': [models.UniqueConstraint(condition=models.Q(('action_item__isnull', True)), fields=('kind', 'postmortem', 'recipient', 'sent_on'), name='reminder_once_per_postmortem_day'), models.UniqueConstraint(condition=models.Q(('action_item__isnull', False)), fields=('kind', 'action_item', 'recipient', 'sent_on'), name='reminder_once_per_item_day')],
            },
        ),
        migrations.RunPython(grant, revoke),
        migrations.RunPython(clear_wont_do_completion, migrations.RunPython.noop, elidable=True),
    ]
