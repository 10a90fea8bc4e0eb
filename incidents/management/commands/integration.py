"""`manage.py integration create --service <slug> --name …` prints a new routing key (once;
only its hash is kept). `integration list` shows integrations (never their keys)."""

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from incidents import ingest
from incidents.models import Integration, Service


class Command(BaseCommand):
    help = "Create or list monitoring integrations (PagerDuty Events v2 routing keys, Alertmanager webhooks)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="make an integration and print its routing key")
        create.add_argument("--service", required=True, help="slug of the service its incidents are opened on")
        create.add_argument("--name", required=True, help="what sends, e.g. 'Grafana checkout'")
        sub.add_parser("list", help="list integrations (never their keys)")

    def handle(self, *args, action: str, **options):
        if action == "list":
            for integration in Integration.objects.select_related("service"):
                state = "active" if integration.is_active else "inactive"
                self.stdout.write(f"{integration.key_prefix}…  {integration.name}  service={integration.service.slug}  {state}")
            return
        service = Service.objects.filter(slug=options["service"]).first()
        if service is None:
            raise CommandError(f"No service with slug {options['service']!r}.")
        integration, key = ingest.create_integration(name=options["name"], service=service)
        self.stderr.write(
            f"Integration {integration.name!r} on {service} — routing key (shown once). Send PagerDuty Events v2 "
            f"to {reverse('api:send_event')}, or point Alertmanager at "
            f"{reverse('api:alertmanager_webhook', args=['<key>'])}:"
        )
        self.stdout.write(key)
