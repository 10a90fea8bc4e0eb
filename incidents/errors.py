"""Domain errors: messages a person can act on. The admin shows them, the API maps them to 4xx."""


class DomainError(Exception):
    """A request the domain refuses. Subclasses say why."""


class IllegalTransition(DomainError):
    """The lifecycle does not allow this step from the incident's current state (HTTP 409)."""


class InvalidInput(DomainError):
    """The values given cannot be applied (HTTP 400)."""


class UnknownSeverity(InvalidInput):
    """Typed text that names no severity, or more than one; the message lists the names there are."""


class InvalidField(InvalidInput):
    """A value of one named field the domain refuses: the admin shows it on that field, the API
    answers 422 naming it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
