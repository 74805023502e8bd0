"""Stored messages in the shape the citizen API returns (``schemas.MessageOut``).

One place for it: the transcript, the citizen event stream and the staff routes all show
stored messages to a widget.
"""
from __future__ import annotations

from typing import Any

from gateway.safety import SAFETY_RESPONSE_ID
from gateway.store import aware
from gateway.translation_port import TranslationPort


def text_direction(translator: TranslationPort, code: str) -> str:
    """``rtl`` for right-to-left languages (ar, fa, ku, ps), else ``ltr``."""
    for info in translator.languages():
        if info.code == code:
            return str(info.dir)
    return "ltr"


def message_out(translator: TranslationPort, m: Any) -> dict[str, Any]:
    """A stored message (row or dict) in the shape of ``schemas.MessageOut``."""
    get = m.get if isinstance(m, dict) else (lambda k, d=None: getattr(m, k, d))
    created = get("created_at")
    return {
        "id": get("id"),
        "role": get("role"),
        "text": get("text"),
        "language": get("language"),
        "dir": text_direction(translator, str(get("language"))),
        "source": get("source"),
        "machine_translated": bool(get("machine_translated")),
        "basis_id": get("basis_id"),
        "buttons": get("buttons") or [],
        "author": get("author"),
        "created_at": aware(created).isoformat() if created is not None else None,
        "safety": get("response_id") == SAFETY_RESPONSE_ID,
    }
