"""Stored messages in the shape the citizen API returns (``schemas.MessageOut``).

One place for it: the transcript, the citizen event stream and the staff routes all show
stored messages to a widget.
"""
from __future__ import annotations

from typing import TypedDict

from gateway.conversations import StoredMessage
from gateway.safety import SAFETY_RESPONSE_ID
from gateway.store import aware
from gateway.translation_port import TranslationPort


def text_direction(translator: TranslationPort, code: str) -> str:
    """``rtl`` for right-to-left languages (ar, fa, ku, ps), else ``ltr``."""
    for info in translator.languages():
        if info.code == code:
            return str(info.dir)
    return "ltr"


class MessageJson(TypedDict):
    """``schemas.MessageOut`` as JSON (the event streams send it without the model)."""

    id: str
    role: str
    text: str
    language: str
    dir: str
    source: dict[str, object] | None
    machine_translated: bool
    basis_id: str | None
    buttons: list[dict[str, str]]
    author: str | None
    created_at: str | None
    safety: bool


def message_out(translator: TranslationPort, m: StoredMessage) -> MessageJson:
    """A stored message in the shape of ``schemas.MessageOut``."""
    created = m["created_at"]
    return {
        "id": m["id"],
        "role": m["role"],
        "text": m["text"],
        "language": m["language"],
        "dir": text_direction(translator, str(m["language"])),
        "source": m["source"],
        "machine_translated": bool(m["machine_translated"]),
        "basis_id": m["basis_id"],
        "buttons": m["buttons"] or [],
        "author": m["author"],
        "created_at": aware(created).isoformat() if created is not None else None,
        "safety": m["response_id"] == SAFETY_RESPONSE_ID,
    }
