"""Rasa's answers as the citizen sees them (turn step 7): as written for Swedish and
English, machine-translated and labelled for other languages, with the Swedish and English
answer beside a translation known to be poor, and in Swedish and English with a notice
when there is no trustworthy translation."""
from __future__ import annotations

from gateway import texts
from gateway.basis import translation_dict
from gateway.catalogue import Answer, Catalogue
from gateway.citizen_copy import CitizenCopy
from gateway.conversations import Outgoing
from gateway.rasa_client import BotMessage
from gateway.translation_port import TranslationPort

#: The fixed line before an answer that could not be translated (translation/notices.yml).
ANSWER_IN_SV_EN = "answer_in_sv_en"


class AnswerRenderer:
    """Turns one of Rasa's messages into the messages a citizen in ``lang`` reads."""

    def __init__(self, catalogue: Catalogue, translator: TranslationPort, copy: CitizenCopy) -> None:
        self.catalogue = catalogue
        self.translator = translator
        self.copy = copy

    def render(self, message: BotMessage, lang: str, rasa_lang: str,
               catalogue: Catalogue | None = None) -> list[Outgoing]:
        """``catalogue``: the answers of the release whose model answered (default: the
        content the gateway started with)."""
        text = message.text or ""
        answer = (catalogue or self.catalogue).get(message.response_id)
        source = (message.metadata or {}).get("source") or (
            answer.source.as_dict() if answer and answer.source else None
        )
        text_sv = text if rasa_lang == "sv" else (answer.text("sv") if answer else None)
        if lang == rasa_lang:
            return [
                Outgoing(text=text, language=lang, source=source, response_id=message.response_id,
                         text_sv=text_sv, buttons=message.buttons)
            ]
        translated = self.translator.from_swedish(text, lang)
        if translated.ok:
            buttons = [
                {"title": self._translate_short(b["title"], lang), "payload": b["payload"]}
                for b in message.buttons
            ]
            translated_answer = Outgoing(
                text=translated.text, language=lang, source=source, machine_translated=True,
                response_id=message.response_id, text_sv=text_sv, buttons=buttons,
                basis={"translation_out": translation_dict(translated)})
            if getattr(translated, "tier", "good") == "poor" and str(message.response_id).startswith("utter_faq/"):
                return self._poor_tier(translated_answer, message, answer, text, source, lang)
            return [translated_answer]
        # No trustworthy translation: say so (under the one rule for fixed lines) and give
        # the answer in Swedish and English.
        out: list[Outgoing] = []
        english = answer.text("en") if answer else None
        sv = Outgoing(text=text, language="sv", source=source, response_id=message.response_id,
                      text_sv=text_sv, buttons=message.buttons,
                      basis={"translation_out": translation_dict(translated)})
        notice_sv, notice_en = self.copy.notice(ANSWER_IN_SV_EN, "sv"), self.copy.notice(ANSWER_IN_SV_EN, "en")
        if notice_sv is not None and notice_en is not None:
            out.extend(self.copy.lines(ANSWER_IN_SV_EN, lang, notice_sv.text, notice_en.text,
                                       texts.ABOUT_SOURCE))
        out.append(sv)
        if english:
            out.append(Outgoing(text=english, language="en", source=source,
                                response_id=message.response_id, text_sv=text_sv))
        return out

    def _poor_tier(
        self, translated: Outgoing, message: BotMessage, answer: Answer | None, text: str,
        source: dict[str, object] | None, lang: str,
    ) -> list[Outgoing]:
        """A language whose machine translation is known to be poor (tier ``poor`` in
        translation/models.yml): the translated answer, labelled, with the Swedish and the
        English answer beside it, and the offer of a person (with an interpreter)."""
        out = [translated, Outgoing(text=text, language="sv", source=source,
                                    response_id=message.response_id, text_sv=translated.text_sv)]
        english = answer.text("en") if answer else None
        if english:
            out.append(Outgoing(text=english, language="en", source=source,
                                response_id=message.response_id, text_sv=translated.text_sv))
        return out + self.copy.say("interpreter_offer", lang)

    def _translate_short(self, text: str, lang: str) -> str:
        result = self.translator.from_swedish(text, lang)
        return str(result.text) if result.ok else text
