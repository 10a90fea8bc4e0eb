"""`manage.py seed_postmortems_demo`: write the demo card-payments incident's post-mortem (made
when `seed_demo` resolved it) as its team would have — sections, five whys, action items in
every state — so `make run` shows a real one. Idempotent; does nothing without the demo."""

import datetime as dt

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from oncall.models import User
from postmortems.models import ActionItem, PostMortem, Why

TITLE = "Card payments failing"
SECTIONS = {
    "summary": "For 1 h 23 min card payments failed for about a third of checkouts: payments-gateway 4.18.0 "
    "set the card processor's keep-alive to 1 s, the processor closed idle connections after 2 s, and the "
    "gateway's pool kept handing out dead connections under load.",
    "users_affected": "About 18,000 checkout attempts failed (32 % at the worst minute); 6,400 customers saw an error.",
    "business_impact": "Roughly 4,100 orders delayed or abandoned; card-processor fees unaffected; support took 310 contacts.",
    "immediate_cause": "payments-gateway 4.18.0 shipped a keep-alive of 1 s against a processor that drops idle connections after 2 s.",
    "root_cause": "Connection settings for third parties are not tested against the third party's behaviour, and the pool does not validate a connection before use.",
    "contributing_technical": "No pre-use check in the HTTP pool; the canary took 5 % of traffic, too little to trip the error alert.",
    "contributing_process": "The config change was reviewed as a refactor; the processor's limits live in a wiki page nobody linked.",
    "went_well": "Monitoring paged within four minutes; the commander was named at once; rollback took six minutes.",
    "could_improve": "The first customer notice went out 35 minutes in; the runbook did not say how to roll back the gateway alone.",
    "lessons_learned": "Treat third-party connection limits as part of the contract, and test them.",
}
WHYS = [
    ("Why did card payments fail?", "The gateway sent requests on connections the processor had already closed."),
    ("Why were the connections closed?", "The processor closes idle connections after 2 s; the gateway kept them for up to 1 s idle, then reused them late under load."),
    ("Why did the gateway reuse dead connections?", "Its pool does not check a connection before use."),
    ("Why was the keep-alive changed?", "4.18.0 moved settings into a new config file and the default changed with it."),
    ("Why did review and the canary not catch it?", "Reviewers saw a refactor, and 5 % canary traffic stayed under the error alert's threshold."),
]


class Command(BaseCommand):
    help = "Fill in the demo card-payments post-mortem (once)."

    @transaction.atomic
    def handle(self, *args, **options):
        postmortem = PostMortem.objects.filter(incident__title__startswith=TITLE).select_related("incident").first()
        if postmortem is None:
            self.stdout.write("No demo post-mortem; run seed_demo first.")
            return
        if postmortem.whys.exists():
            self.stdout.write(f"Demo post-mortem of {postmortem.incident.reference} already written.")
            return
        people = {u.username: u for u in User.objects.filter(username__in=["alice", "bob", "carol", "erin"])}
        for name, value in SECTIONS.items():
            setattr(postmortem, name, value)
        postmortem.save()
        Why.objects.bulk_create(Why(postmortem=postmortem, position=i, question=q, answer=a) for i, (q, a) in enumerate(WHYS, 1))
        today = timezone.localdate()
        items = [
            ("Roll back payments-gateway to 4.17.2 and pin the keep-alive", "alice", today - dt.timedelta(days=3), "high", "done", "immediate"),
            ("Validate pooled connections before use in the HTTP client", "bob", today - dt.timedelta(days=1), "high", "in_progress", "short_term"),
            ("Test third-party connection limits in the integration suite", "erin", today + dt.timedelta(days=1), "medium", "open", "short_term"),
            ("Send the first customer notice within 15 minutes for SEV-1 (runbook + template)", "carol", today + dt.timedelta(days=14), "medium", "open", "short_term"),
            ("Raise canary traffic to 20 % for payment services", "bob", today + dt.timedelta(days=45), "low", "open", "long_term"),
        ]
        now = timezone.now()
        ActionItem.objects.bulk_create(
            ActionItem(
                postmortem=postmortem, description=text, owner=people.get(owner), due_date=due, priority=priority,
                status=status, horizon=horizon, completed_at=now if status == "done" else None,
                completion_criteria="Merged, deployed, and checked on the dashboard." if status != "done" else "Rolled back; error rate at baseline.",
            )
            for text, owner, due, priority, status, horizon in items
        )
        self.stdout.write(f"Demo post-mortem of {postmortem.incident.reference} written (5 whys, {len(items)} action items).")
