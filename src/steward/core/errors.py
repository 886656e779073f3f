"""One error type that carries an HTTP status and a message safe for clients."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details
        self.headers = headers

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message}
        if self.details:
            out["details"] = self.details
        return out


def not_found(what: str = "Record not found") -> ApiError:
    return ApiError(404, what)


def unprocessable(message: str, field: str | None = None, code: str = "ERR_INVALID") -> ApiError:
    details = {field: [{"error": code, "description": message}]} if field else None
    return ApiError(422, f"Validation failed: {message}", details)


def forbidden(message: str = "This action is not allowed") -> ApiError:
    return ApiError(403, message)


def unauthorized(message: str = "The access token is invalid") -> ApiError:
    return ApiError(401, message)


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)
