"""Request and response bodies of the citizen API (validated at the edge)."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_TEXT = 2000


class CreateConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: str | None = Field(None, min_length=2, max_length=8, pattern=r"^[a-z]{2,3}$")
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
    language: str = Field(min_length=2, max_length=8, pattern=r"^[a-z]{2,3}$")


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
    translation: dict[str, Any] | None = None  # engine, model, revision when machine-translated
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
    handoff: dict[str, Any] | None = None


class ConversationCreated(BaseModel):
    conversation_id: str
    token: str
    language: LanguageOut
    messages: list[MessageOut]


class Transcript(BaseModel):
    conversation_id: str
    language: LanguageOut
    messages: list[MessageOut]
    handoff: dict[str, Any] | None = None


class LanguageList(BaseModel):
    languages: list[dict[str, Any]]
