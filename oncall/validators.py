"""Bounds on the settings the engine runs on: durations of the response matrix and the escalation
matrix, counted in the words the admin shows ("more than 0 s, at most 7 d").

In `oncall`, the lowest layer, so `incidents` bounds its severity levels with the same validator.
Each bound is also a `CheckConstraint` on its model, so no path writes a row the engine cannot
run on; the validator is what turns a bad value into a form error first.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

from .formatting import duration

ZERO = timedelta(0)


@deconstructible
class DurationWithin:
    """A duration above zero (or at least zero, with `zero_allowed`) and at most `most`.

    `zero_passes` lets zero through this validator while the message still asks for more than
    zero: the model's `clean` decides, for a duration whose zero means something on one clock."""

    def __init__(self, most: timedelta, *, zero_allowed: bool = False, zero_passes: bool = False):
        self.most = most
        self.zero_allowed = zero_allowed
        self.zero_passes = zero_passes

    def __call__(self, value: timedelta | None) -> None:
        if value is None or (value == ZERO and self.zero_passes):
            return
        if value < ZERO or (value == ZERO and not self.zero_allowed):
            raise ValidationError(self.message, code="out_of_bounds")
        if value > self.most:
            raise ValidationError(self.message, code="out_of_bounds")

    @property
    def message(self) -> str:
        return f"Must be {self.words}."

    @property
    def words(self) -> str:
        """"more than 0 s and at most 7 d", for messages and help texts."""
        low = "0 s or more" if self.zero_allowed else "more than 0 s"
        return f"{low} and at most {duration(self.most)}"

    def __eq__(self, other) -> bool:
        return isinstance(other, DurationWithin) and (self.most, self.zero_allowed, self.zero_passes) == (
            other.most,
            other.zero_allowed,
            other.zero_passes,
        )
