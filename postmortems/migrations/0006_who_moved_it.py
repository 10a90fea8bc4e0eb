"""Who submitted, sent back and published each post-mortem, and when."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('postmortems', '0005_wont_do_is_not_completed'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='postmortem',
            name='published_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='postmortem',
            name='returned_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='last sent back to draft'),
        ),
        migrations.AddField(
            model_name='postmortem',
            name='returned_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='last sent back by'),
        ),
        migrations.AddField(
            model_name='postmortem',
            name='submitted_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='last submitted for review'),
        ),
        migrations.AddField(
            model_name='postmortem',
            name='submitted_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='last submitted by'),
        ),
    ]
