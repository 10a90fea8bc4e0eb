"""The ten demo incident stories, in the order they are replayed (oldest first), one incident each."""

from incidents.demo.stories.closed import closed_failover_drill, closed_refund_duplicates
from incidents.demo.stories.ongoing import (
    identified_checkout_latency,
    identified_security_sign_ins,
    investigating_admin_export,
    monitoring_stale_search,
    triggered_frontend_502s,
)
from incidents.demo.stories.resolved import (
    reopened_notification_delays,
    resolved_card_payments,
    resolved_sign_in_outage,
)

STORIES = (
    closed_refund_duplicates,
    closed_failover_drill,
    resolved_card_payments,
    investigating_admin_export,
    reopened_notification_delays,
    resolved_sign_in_outage,
    monitoring_stale_search,
    identified_security_sign_ins,
    identified_checkout_latency,
    triggered_frontend_502s,
)
