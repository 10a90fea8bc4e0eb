"""The comms admin: message templates (validated on save, previewed against a real incident),
stakeholder groups, people's contact methods and notification rules, and the outbox; one module
per area, and importing them registers their pages.

Contact methods and rules are personal: without `comms.change_contactmethod` (or
`change_notificationrule`) a person sees and edits only their own, and the owner is always
the signed-in user. Notifications are written only by the outbox, so the admin shows them
read-only; the one thing done to them here is the "Resend" action, one call to `outbox.resend`.
The chat workspace war rooms open in is one row whose bot token is written, never shown back.
"""

from . import contacts, groups, message_templates, notifications, reports, workspace  # noqa: F401  (each registers its ModelAdmins)
