"""The JSON API's errors, for every router: `ApiError` (and its 403 and 429 kinds) raised by a
route or by authentication, and the error bodies config/api.py answers with, named in each route's
OpenAPI `response={…}`. In `oncall`, the lowest app, so every app's router can import them."""

from __future__ import annotations

from ninja import Schema


class ApiError(Exception):
    """An API error with its HTTP status (mapped to JSON by config/api.py)."""

    status = 400

    def __init__(self, detail: str, *, status: int | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        self.status = status or self.status
        self.headers = headers or {}


# The error bodies config/api.py sends, for every router's OpenAPI `response={…}`.
class ErrorOut(Schema):
    detail: str


class FieldErrorOut(Schema):
    field: str
    message: str


class ValidationErrorOut(Schema):
    detail: str
    errors: list[FieldErrorOut] = []


class Forbidden(ApiError):
    status = 403


class RateLimited(ApiError):
    status = 429
