
from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def mark_history_dispatched(apps, schema_editor):
    """Events written before the outbox existed are history: nobody should be paged for them now."""
    apps.get_model("incidents", "TimelineEvent").objects.update(dispatched_at=F("occurred_at"))


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0004_deadline_engine'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='timelineevent',
            name='dispatched_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(mark_history_dispatched, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='timelineevent',
            name='kind',
            field=models.CharField(choices=[('declared', 'Declared'), ('acknowledged', 'Acknowledged'), ('status_changed', 'Status changed'), ('severity_changed', 'Severity changed'), ('role_assigned', 'Role assigned'), ('role_released', 'Role released'), ('note', 'Note'), ('status_update', 'Status update'), ('details_changed', 'Details changed'), ('task_added', 'Task added'), ('task_done', 'Task done'), ('task_reopened', 'Task reopened'), ('evidence_added', 'Evidence added'), ('resolved', 'Resolved'), ('reopened', 'Reopened'), ('closed', 'Closed'), ('escalated', 'Escalated'), ('ack_sla_breached', 'Acknowledge SLA breached'), ('update_overdue', 'Status update overdue'), ('resolve_target_breached', 'Resolve target breached'), ('nobody_to_page', 'Nobody to page'), ('notification_failed', 'Notification failed')], max_length=30),
        ),
        migrations.AddIndex(
            model_name='timelineevent',
            index=models.Index(condition=models.Q(('dispatched_at__isnull', True)), fields=['occurred_at'], name='timeline_undispatched'),
        ),
        migrations.AlterField(
            model_name='timelineevent',
            name='source',
            field=models.CharField(choices=[('admin', 'Admin'), ('api', 'API'), ('chat', 'Chat'), ('integration', 'Integration'), ('engine', 'SLA engine'), ('page', 'Page (acknowledge link or SMS reply)'), ('system', 'System')], max_length=20),
        ),
    ]
