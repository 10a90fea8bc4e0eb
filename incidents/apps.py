from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        """Names the severity ranks for oncall's escalation matrix (`oncall.ranks`): the one place
        oncall learns what the organisation calls its severities."""
        from oncall import ranks

        from .models import SeverityLevel

        ranks.provide(lambda: dict(SeverityLevel.objects.values_list("rank", "name")))
