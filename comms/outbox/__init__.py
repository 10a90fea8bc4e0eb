"""The notification outbox: timeline events become Notification rows, rows become messages.

- `dispatch.py`: `dispatch_event` writes a committed event's rows (one per recipient, channel and
  rule, with a unique key) and stamps the event dispatched, in one transaction: twice creates
  nothing new.
- `delivery.py`: `deliver` / `deliver_many` send due rows, one message per address (bundling the
  rows a throttle held back), each recorded as soon as its provider answered: at-least-once,
  never a lost page, never a whole batch twice.
- `sweeper.py`: what beat's sweep (`comms.tasks.sweep_outbox`) dispatches and enqueues — events
  no task picked up, rows that fell due (delayed rules, throttles, retry backoff) or whose task
  was lost — the admin's "resend", and the backlog `/api/v1/health` reports.

Callers use this package as one module (`outbox.deliver(…)`); the Celery tasks are in `comms/tasks.py`.
"""

from .delivery import deliver, deliver_many
from .dispatch import dispatch_event, dispatch_events, notification_key
from .sweeper import due_for_enqueue, health, mark_enqueued, page_ids, resend, undispatched_events

__all__ = [
    "deliver", "deliver_many", "dispatch_event", "dispatch_events", "due_for_enqueue", "health", "mark_enqueued",
    "notification_key", "page_ids", "resend", "undispatched_events",
]
