"""Durations and ages as an operator reads them (defined in `oncall`, the lowest layer)."""

from oncall.formatting import EMPTY, age, duration

__all__ = ["EMPTY", "age", "duration"]
