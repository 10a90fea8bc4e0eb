from django.apps import AppConfig


class PostmortemsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "postmortems"
    verbose_name = "Post-mortems"

    def ready(self) -> None:
        # `incidents` never imports `postmortems`: it sends signals and consults registered
        # close guards, and this app plugs into both.
        from incidents import lifecycle, timeline

        from . import services

        timeline.events_recorded.connect(services.on_events_recorded, dispatch_uid="postmortems.create_on_resolve")
        if services.close_guard not in lifecycle.close_guards:
            lifecycle.close_guards.append(services.close_guard)
