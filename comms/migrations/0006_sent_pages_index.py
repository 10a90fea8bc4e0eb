"""The on-call figures' index: pages sent, by when (partial: sent pages only), for the pager's
latency and on-call load over a period (comms/reports).

Built with CREATE INDEX CONCURRENTLY on PostgreSQL, outside a transaction, so that upgrading a
live installation does not lock the notifications table while it builds; other databases get a
plain index.
"""

from django.db import migrations, models

from oncall.migration_ops import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("comms", "0005_customer_words_name_the_organisation"),
    ]

    operations = [
        AddIndexOnline(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("is_page", True), ("status", "sent")), fields=["sent_at"], name="notification_page_sent"
            ),
        ),
    ]
