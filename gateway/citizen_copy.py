"""Citizen-facing copy in the citizen's language: the one function that says a fixed text
we wrote in Swedish and English to a citizen who reads another language.

The rule (:meth:`CitizenCopy.lines`):

* Swedish or English: the text as written;
* any other language: a line a translator has verified (translation/notices.yml), as it is;
  else a line nobody has verified yet or a machine translation, labelled machine-translated;
  else nothing. The Swedish and the English text always follow, so the citizen never has
  only an unverified line.

The assistant's lines, the safety information and what the citizen reads when staff take
over all go through it; the prose itself is in ``gateway/copy/*.yml`` (``texts.py``).
"""
from __future__ import annotations

from gateway import texts
from gateway.basis import translation_dict, unverified_line
from gateway.conversations import Outgoing
from gateway.safety import SAFETY_SOURCE, safety_info
from gateway.texts import NATIVE
from gateway.translation_port import TranslationPort
from translation.errors import TranslationError
from translation.notices import Notice


class CitizenCopy:
    """Fixed texts for a citizen in their language, through one translator."""

    def __init__(self, translator: TranslationPort) -> None:
        self.translator = translator

    def say(self, key: str, lang: str, source: dict[str, object] | None = texts.ABOUT_SOURCE,
            **values: str) -> list[Outgoing]:
        """The text ``key`` of ``gateway/copy`` for a citizen in ``lang``, under the rule."""
        return self.lines(key, lang, texts.text(key, "sv", **values), texts.text(key, "en", **values), source)

    def safety(self, lang: str) -> list[Outgoing]:
        """Where to get help now (``safety.SAFETY_INFO``), for a citizen in ``lang``."""
        return self.lines("safety_info", lang, safety_info("sv"), safety_info("en"), SAFETY_SOURCE)

    @staticmethod
    def native(key: str, lang: str, source: dict[str, object] | None = texts.ABOUT_SOURCE) -> Outgoing:
        """The text ``key`` as written in Swedish or English, nothing else."""
        return Outgoing(text=texts.text(key, lang), language=lang, source=source,
                        response_id=f"gateway/{key}", text_sv=texts.text(key, "sv"))

    def notice(self, key: str, lang: str, sv: str | None = None) -> Notice | None:
        """The fixed line ``key`` in ``lang`` and whether a translator has verified it, or
        None. With ``sv``, only a line that translates that Swedish text (the notices file's
        Swedish line is ``sv``), so a line never stands in for a text it does not say. The
        translation library raises for a key it does not define (e.g. ``welcome``,
        ``safety_info``); that means "no line", never a failed turn -- least of all on the
        safety path."""
        try:
            line = self.translator.notice(key, lang)
            if line is None or (sv is not None and self.translator.notice(key, "sv") != sv):
                return None
            verified = self.translator.notice(key, lang, verified_only=True) is not None
        except TranslationError:
            return None
        return Notice(line, verified)

    def lines(
        self, key: str, lang: str, sv: str, en: str, source: dict[str, object] | None
    ) -> list[Outgoing]:
        """A fixed text we wrote in Swedish (``sv``) and English (``en``), response id
        ``gateway/<key>``, for a citizen in ``lang`` under the rule in this module's docstring."""
        response_id = f"gateway/{key}"
        if lang in NATIVE:
            return [Outgoing(text=sv if lang == "sv" else en, language=lang, source=source,
                             response_id=response_id, text_sv=sv)]
        out: list[Outgoing] = []
        line = self.notice(key, lang, sv)
        if line is not None and line.verified:
            out.append(Outgoing(text=line.text, language=lang, source=source,
                                response_id=response_id, text_sv=sv))
        elif line is not None:
            out.append(Outgoing(text=line.text, language=lang, source=source, machine_translated=True,
                                response_id=response_id, text_sv=sv,
                                basis={"translation_out": unverified_line(lang)}))
        else:
            translated = self.translator.from_swedish(sv, lang)
            if translated.ok:
                out.append(Outgoing(text=translated.text, language=lang, source=source,
                                    machine_translated=True, response_id=response_id, text_sv=sv,
                                    basis={"translation_out": translation_dict(translated)}))
        out.append(Outgoing(text=sv, language="sv", source=source, response_id=response_id, text_sv=sv))
        out.append(Outgoing(text=en, language="en", source=source, response_id=response_id, text_sv=sv))
        return out
