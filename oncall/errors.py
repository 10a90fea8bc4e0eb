"""On-call domain errors: messages a person can act on, naming the field to fix."""


class DomainError(Exception):
    """A request the on-call domain refuses. Subclasses say why."""


class InvalidOverride(DomainError):
    """An override that cannot be: `errors` maps each field to fix to its message, in the order a
    person fixes them (the admin form shows them all, the API answers 422 with the first)."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__(" ".join(errors.values()))


class CoverRefused(DomainError):
    """A cover request that cannot be made or answered: `errors` maps each field to fix (or
    "__all__" for an answer) to its message; `reason` is what a link's page turns into a status
    ("invalid", "gone", "expired", "answered", "forbidden", "refused")."""

    def __init__(self, errors: dict[str, str] | str, *, reason: str = "refused"):
        self.errors = errors if isinstance(errors, dict) else {"__all__": errors}
        self.reason = reason
        super().__init__(" ".join(self.errors.values()))
