"""The postmortems app, and how it plugs into the incident lifecycle it sits above."""

from django.apps import AppConfig


class PostmortemsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "postmortems"
    verbose_name = "Post-mortems"

    def ready(self) -> None:
        """`incidents` never imports `postmortems`; this app registers itself in two places:
        - the timeline reaction "postmortems.open_on_resolve" (`services.open_on_resolve`):
          resolving an incident that requires a post-mortem opens one inside the resolving
          transaction, and resolving again after a reopen brings its timeline up to date;
        - the close guard `services.close_guard` in `incidents.lifecycle.close_guards`: an
          incident that requires a post-mortem closes only once it is published."""
        from incidents import lifecycle, timeline

        from . import services

        timeline.react("postmortems.open_on_resolve", services.open_on_resolve, when="in_transaction")
        if services.close_guard not in lifecycle.close_guards:
            lifecycle.close_guards.append(services.close_guard)
