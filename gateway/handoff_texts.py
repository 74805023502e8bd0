"""What the citizen reads when a person takes over, as messages for the handoff queue:
the fixed texts (``gateway/copy/handoff.yml``) under the one rule of ``citizen_copy``, and
a staff member's Swedish reply, translated and labelled."""
from __future__ import annotations

from gateway.citizen_copy import CitizenCopy
from gateway.conversations import Outgoing
from gateway.translation_port import TranslationPort


def _item(m: Outgoing) -> dict[str, object]:
    return {"text": m.text, "language": m.language, "text_sv": m.text_sv,
            "machine_translated": m.machine_translated}


def citizen_texts(translator: TranslationPort, key: str, lang: str, **values: str) -> list[dict[str, object]]:
    """The text ``key`` for a citizen in ``lang`` (see ``citizen_copy``), as message items."""
    return [_item(m) for m in CitizenCopy(translator).say(key, lang, None, **values)]


def staff_reply_texts(translator: TranslationPort, text_sv: str, lang: str) -> list[dict[str, object]]:
    """A staff member's Swedish reply as the citizen sees it (translated and labelled)."""
    if lang == "sv":
        return [{"text": text_sv, "language": "sv", "text_sv": text_sv, "machine_translated": False}]
    translated = translator.from_swedish(text_sv, lang)
    if translated.ok:
        return [{"text": translated.text, "language": lang, "text_sv": text_sv, "machine_translated": True}]
    reply = {"text": text_sv, "language": "sv", "text_sv": text_sv, "machine_translated": False}
    note = citizen_texts(translator, "untranslated", lang)
    return [reply, *[{**n, "role": "system"} for n in note]]
