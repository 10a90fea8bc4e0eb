"""`manage.py seed_comms_demo`: contact methods and stakeholder-group members for the demo users
that `seed_demo` made (run by `make run` after it), and the two scheduled reports (weekly for the
Managers group, monthly for Leadership) owned by Carol, a manager. Idempotent; does nothing
without them."""

from django.core.management.base import BaseCommand
from django.db import transaction

from django.contrib.auth.models import Group

from comms.models import Channel, ContactMethod, ReportSubscription, StakeholderGroup
from comms.reports.sections import DEFAULT_SECTIONS
from oncall.models import User

# username -> (SMS number, chat handle): example numbers that phonenumbers accepts.
CONTACTS = {
    "alice": ("+447400123401", "@alice"),
    "bob": ("+12025550142", "@bob"),
    "carol": ("+447400123403", "@carol"),
    "erin": ("+12025550175", None),
    "frank": ("+12025550188", "@frank"),
}
GROUP_MEMBERS = {
    "engineering": ["alice", "bob", "carol", "dave", "erin"],
    "leadership": ["carol", "frank"],
    "customer-support": ["dave"],
}
CUSTOMER_ADDRESSES = "status-subscribers@customer.example\nops@partner.example"


class Command(BaseCommand):
    help = "Give the demo users contact methods and stakeholder-group memberships (once)."

    @transaction.atomic
    def handle(self, *args, **options):
        users = {u.username: u for u in User.objects.filter(username__in=[*CONTACTS, "dave"])}
        if not users:
            self.stdout.write("No demo users; run seed_demo first.")
            return
        made = 0
        for username, user in users.items():
            sms, chat = CONTACTS.get(username, (None, None))
            wanted = [(Channel.EMAIL, user.email)]
            if sms:
                wanted.append((Channel.SMS, sms))
            if chat:
                wanted.append((Channel.CHAT, chat))
            for channel, address in wanted:
                if address:
                    _, created = ContactMethod.objects.get_or_create(user=user, channel=channel, address=address)
                    made += created
        for slug, members in GROUP_MEMBERS.items():
            group = StakeholderGroup.objects.filter(slug=slug).first()
            if group is not None:
                group.members.add(*[users[m] for m in members if m in users])
        customers = StakeholderGroup.objects.filter(slug="customers", external_addresses="").first()
        if customers is not None:
            customers.external_addresses = CUSTOMER_ADDRESSES
            customers.save(update_fields=["external_addresses"])
        _seed_reports(users.get("carol"))
        self.stdout.write(f"Demo contact methods: {made} created." if made else "Demo contact methods already present.")


def _seed_reports(owner) -> None:
    """The reports the migration seeds (made again if they were deleted), given an owner."""
    weekly, _ = ReportSubscription.objects.get_or_create(
        name="Weekly escalation report",
        defaults={"frequency": ReportSubscription.Frequency.WEEKLY, "weekday": 1, "sections": DEFAULT_SECTIONS},
    )
    managers = Group.objects.filter(name="Managers").first()
    if managers is not None:
        weekly.user_groups.add(managers)
    monthly, _ = ReportSubscription.objects.get_or_create(
        name="Monthly escalation report",
        defaults={"frequency": ReportSubscription.Frequency.MONTHLY, "day_of_month": 1, "sections": DEFAULT_SECTIONS},
    )
    leadership = StakeholderGroup.objects.filter(slug="leadership").first()
    if leadership is not None:
        monthly.stakeholder_groups.add(leadership)
    if owner is not None:
        ReportSubscription.objects.filter(pk__in=[weekly.pk, monthly.pk], owner=None).update(owner=owner)
