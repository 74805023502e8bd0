"""Request and response bodies of the citizen API (validated at the edge)."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from fastapi.responses import StreamingResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

MAX_TEXT = 2000
# The shape of a language code; which codes are offered comes from the translation registry
# (the OpenAPI document lists them, see gateway/openapi.py).
LANGUAGE_PATTERN = r"^[a-z]{2,3}$"


def _not_a_number(value: object) -> object:
    """Dates and times are ISO 8601 text; pydantic would otherwise read "0" or "1.5" as Unix
    time, which the OpenAPI document (format date / date-time) does not allow."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        raise ValueError("write dates as YYYY-MM-DD and times as ISO 8601, e.g. 2026-01-31T08:00:00+01:00")
    return value


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
IsoDateTime = Annotated[datetime, BeforeValidator(_not_a_number)]
IsoDate = Annotated[date, BeforeValidator(_not_a_number)]


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str = Field(description="stable machine-readable code, e.g. not_found, rate_limited")
    message: str = Field(description="what went wrong and what to do, for people")


class ErrorBody(BaseModel):
    """Every error the gateway answers (4xx and 5xx) has this body."""

    error: ErrorDetail


ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "The request is well-formed but cannot be done as asked (the message says why).",
    401: "No or an unknown token or session.",
    403: "The token or session may not do this (wrong conversation, role or CSRF token).",
    404: "The conversation, answer or ticket does not exist.",
    408: "The request body did not arrive in time.",
    409: "Someone changed the same thing at the same moment; try again.",
    413: "The request body or text is too large.",
    422: "The request does not match the schema (the message names the field).",
    429: "Too many requests; Retry-After says how many seconds to wait.",
    503: "The assistant or the gateway cannot answer right now; try again in a moment.",
}
_ERROR_HEADERS: dict[int, dict[str, object]] = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}},
}


def error_responses(*codes: int) -> dict[int | str, dict[str, object]]:
    """``responses=`` for a route: the error statuses it can answer, with ``ErrorBody``."""
    out: dict[int | str, dict[str, object]] = {}
    for code in codes:
        out[code] = {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[code]}
        if code in _ERROR_HEADERS:
            out[code]["headers"] = _ERROR_HEADERS[code]
    return out


class EventStream(StreamingResponse):
    """``response_class`` of a Server-Sent Events route, so it is documented as one."""

    media_type = "text/event-stream"


def event_stream_responses(*codes: int) -> dict[int | str, dict[str, object]]:
    """``responses=`` for a Server-Sent Events route."""
    stream = {"schema": {"type": "string", "description": "Server-Sent Events (event:, data: JSON, id:)"}}
    return {200: {"description": "An endless event stream.", "content": {"text/event-stream": stream}},
            **error_responses(*codes)}


def file_responses(*media_types: str) -> dict[int | str, dict[str, object]]:
    """``responses=`` (200) for a route that answers a file download."""
    content = {media: {"schema": {"type": "object" if media == "application/json" else "string"}}
               for media in media_types}
    return {200: {"description": "A file (Content-Disposition: attachment).", "content": content}}


class CreateConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: str | None = Field(None, min_length=2, max_length=8, pattern=LANGUAGE_PATTERN)
    preferred_languages: list[
        Annotated[str, Field(min_length=2, max_length=35, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")]
    ] = Field(default_factory=list, max_length=20,
              description="the browser's languages, best first (navigator.languages); used when "
                          "'language' is not given")


class SendMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_TEXT)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must contain something other than spaces")
        if "\x00" in value:
            raise ValueError("text must not contain NUL characters")
        return value


class SetLanguage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: str = Field(min_length=2, max_length=8, pattern=LANGUAGE_PATTERN)


class Source(BaseModel):
    """The page an answer is based on and who stands behind its text (docs/topic-format.md)."""

    title: str
    url: str
    author: str | None = None
    checked: str | None = None
    owner: str | None = None
    reviewed_by: str | None = None
    reviewed: str | None = None


class Button(BaseModel):
    title: str
    payload: str


class MessageOut(BaseModel):
    id: str
    role: str
    text: str
    language: str
    dir: str = "ltr"
    source: Source | None = None
    machine_translated: bool = False
    translation: dict[str, object] | None = None  # engine, model, revision when machine-translated
    basis_id: str | None = None
    buttons: list[Button] = Field(default_factory=list)
    author: str | None = None
    created_at: str | None = None
    safety: bool = False  # the safety information (emergency numbers): the widget keeps it in view


class LanguageOut(BaseModel):
    code: str
    confidence: float | None = None
    method: str | None = None
    name: str | None = None
    dir: str = "ltr"


class TurnOut(BaseModel):
    conversation_id: str
    language: LanguageOut
    messages: list[MessageOut]
    handoff: dict[str, object] | None = None


class ConversationCreated(BaseModel):
    conversation_id: str
    token: str
    language: LanguageOut
    messages: list[MessageOut]


class Transcript(BaseModel):
    conversation_id: str
    language: LanguageOut
    messages: list[MessageOut]
    handoff: dict[str, object] | None = None


class LanguageList(BaseModel):
    languages: list[dict[str, object]]
