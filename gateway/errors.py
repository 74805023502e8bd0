"""One error hierarchy for the gateway, mapped to HTTP in one place (``install``)."""
from __future__ import annotations

import json
import logging
import math
import traceback
from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic_core import ErrorDetails
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class GatewayError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(GatewayError):
    status = 404
    code = "not_found"


class UnauthorisedError(GatewayError):
    status = 401
    code = "unauthorised"


class ForbiddenError(GatewayError):
    status = 403
    code = "forbidden"


class ConflictError(GatewayError):
    status = 409
    code = "conflict"


class PayloadTooLargeError(GatewayError):
    status = 413
    code = "payload_too_large"


class RateLimitedError(GatewayError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: float = 60) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, math.ceil(retry_after_s))  # whole seconds, sent as Retry-After


class UnavailableError(GatewayError):
    status = 503
    code = "unavailable"


def _body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


def error_body_bytes(code: str, message: str) -> bytes:
    """The error body as JSON bytes, for responses written below the routes (middleware)."""
    return json.dumps(_body(code, message), ensure_ascii=False).encode("utf-8")


DEFAULT_RETRY_AFTER_S = 60


def _headers_for(status: int, exc: Exception) -> dict[str, str] | None:
    if status == 401:
        return {"WWW-Authenticate": "Bearer"}
    if status == 429:  # every 429 says when to try again
        return {"Retry-After": str(getattr(exc, "retry_after_s", DEFAULT_RETRY_AFTER_S))}
    return None


def _describe(errors: Sequence[ErrorDetails]) -> str:
    parts = []
    for err in errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        msg = str(err.get("msg", "invalid"))
        if err.get("type") == "json_invalid":
            return "The request body is not valid JSON."
        parts.append(f"{loc or 'body'}: {msg}")
    return "; ".join(parts) or "The request is not valid."


def install(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def _gateway_error(_: Request, exc: GatewayError) -> JSONResponse:
        return JSONResponse(_body(exc.code, exc.message), status_code=exc.status,
                            headers=_headers_for(exc.status, exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        too_long = any(
            e.get("type") == "string_too_long" and "text" in [str(p) for p in e.get("loc", ())]
            for e in errors
        )
        status = 413 if too_long else 422
        code = "payload_too_large" if too_long else "invalid_request"
        return JSONResponse(_body(code, _describe(errors)), status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404 and message == "Not Found":
            message = "There is nothing at this address."
        if exc.status_code == 405:
            message = "This method is not allowed here."
        return JSONResponse(_body("http_error", message), status_code=exc.status_code,
                            headers={**(exc.headers or {}), **(_headers_for(exc.status_code, exc) or {})})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Only the type and where it happened: exception messages (e.g. SQL errors with their
        # parameters) can carry citizens' text, which never goes to ordinary logs.
        frames = traceback.extract_tb(exc.__traceback__)
        where = " < ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames[-4:]))
        logger.error("unexpected error: %s at %s", type(exc).__name__, where)
        services = getattr(request.app.state, "services", None)  # karlstad_errors_total
        if services is not None:
            services.metrics.error("database" if isinstance(exc, SQLAlchemyError) else "internal")
        return JSONResponse(
            _body("internal", "Something went wrong on our side. Nothing was saved; please try again."),
            status_code=503,
        )
