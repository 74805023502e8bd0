"""One citizen turn, in order (ARCHITECTURE.md "One citizen turn"):

1. the text is validated at the edge (schemas.py);
2. personal data is masked before anything else sees it;
3. the language is decided (explicit choice > detector with stickiness);
4. other languages than Swedish and English are machine-translated to Swedish;
5. a handed-over conversation goes to the staff queue instead of Rasa;
6. Rasa answers (with its parse, policy and model id);
7. answers are translated back when needed, labelled machine-translated;
8. one basis record per answer, in the same transaction as the answer;
9. sensitive topics give safety information and open a handoff ticket.

Step 9's safety lexicon runs on every message before step 5, whatever the conversation's
state: a citizen who waits for a person (or talks to one) and then writes about danger gets
the safety information in the same response, and the open ticket becomes acute.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.engine import Connection

from gateway import basis, conversations, texts
from gateway.auth import new_id
from gateway.catalogue import Catalogue
from gateway.conversations import Outgoing
from gateway.handoff import HandoffQueue
from gateway.rasa_client import BotMessage, RasaClient, RasaReply, RasaUnavailableError
from gateway.safety import SAFETY_SOURCE, SafetyHit, SafetyLexicon, safety_info
from gateway.store import Store, utcnow
from translation.errors import LanguageError, TranslationError
from translation.langid import normalise_code, served
from translation.masking import mask_pii
from translation.notices import Notice

logger = logging.getLogger(__name__)

NATIVE = ("sv", "en")


class TranslationPort(Protocol):
    """What the gateway uses of ``translation.service.TranslationService``."""

    def detect(self, text: str, current: str | None = None, explicit: str | None = None) -> Any: ...
    def to_swedish(self, text: str, lang: str) -> Any: ...
    def from_swedish(self, text: str, lang: str) -> Any: ...
    def languages(self) -> list[Any]: ...
    def notice(self, key: str, lang: str, *, verified_only: bool = False) -> str | None: ...


class ConversationNotFoundError(Exception):
    pass


class AssistantUnavailableError(Exception):
    """Rasa is down: the citizen's message is not stored, the widget keeps it and retries."""


@dataclass
class TurnResult:
    conversation_id: str
    language: dict[str, Any]
    messages: list[Outgoing]
    handoff: dict[str, Any] | None
    citizen_message_id: str


@dataclass
class Release:
    version: str
    data_hash: str

    def as_dict(self) -> dict[str, str]:
        return {"version": self.version, "training_data": self.data_hash}


def _lang_info(languages: list[Any], code: str) -> dict[str, Any]:
    for info in languages:
        if getattr(info, "code", None) == code:
            return {"code": code, "name": info.name, "dir": info.dir}
    return {"code": code, "name": code, "dir": "ltr"}


def _translation_dict(tr: Any) -> dict[str, Any] | None:
    if tr is None:
        return None
    return {
        "engine": getattr(tr, "engine", None),
        "model": getattr(tr, "model", None),
        "revision": getattr(tr, "revision", None),
        "score": getattr(tr, "score", None),
        "ok": bool(getattr(tr, "ok", False)),
        "reason": getattr(tr, "reason", None),
        "source_lang": getattr(tr, "source_lang", None),
        "target_lang": getattr(tr, "target_lang", None),
    }


class TurnService:
    def __init__(
        self,
        *,
        store: Store,
        rasa: RasaClient,
        catalogue: Catalogue,
        translator: TranslationPort,
        handoff: HandoffQueue,
        safety: SafetyLexicon,
        release: Release,
        publish: Callable[[str, dict[str, Any]], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.rasa = rasa
        self.catalogue = catalogue
        self.translator = translator
        self.handoff = handoff
        self.safety = safety
        self.release = release
        self.publish = publish or (lambda channel, event: None)
        self.clock = clock

    # ---- conversation -------------------------------------------------------------
    def create_conversation(
        self, token_hash: str, language: str | None, preferred: Sequence[str] = ()
    ) -> tuple[str, str, list[Outgoing]]:
        """A new conversation: its id, language and welcome. ``language`` is the citizen's
        explicit choice; without one, ``preferred`` (the browser's languages, best first)
        picks the first language the assistant has a verified welcome for (sv and en are
        written by people); when there is none, the welcome comes in Swedish and English."""
        conversation_id = new_id()
        now = self.clock()
        if language is not None:
            lang = language
            welcome = self._gateway_text("welcome", lang, source=texts.ABOUT_SOURCE)
        else:
            start = self._welcome_language(preferred)
            lang = start or "sv"
            if start is None and preferred:
                welcome = [self._native_text("welcome", "sv", texts.ABOUT_SOURCE),
                           self._native_text("welcome", "en", texts.ABOUT_SOURCE)]
            else:
                welcome = self._gateway_text("welcome", lang, source=texts.ABOUT_SOURCE)
        with self.store.begin() as conn:
            conversations.create(conn, conversation_id, token_hash, lang, language is not None, now)
            conversations.append_messages(conn, conversation_id, 0, welcome, now)
        return conversation_id, lang, welcome

    def _welcome_language(self, preferred: Sequence[str]) -> str | None:
        """The first of ``preferred`` with a welcome nobody has to guess at: Swedish or English,
        or a language whose welcome line a translator has verified. None if there is none."""
        offered = {str(info.code) for info in self.translator.languages()}
        for code in preferred:
            try:
                lang = served(normalise_code(code))
            except LanguageError:
                continue
            if lang in NATIVE:
                return lang
            if lang in offered:
                line = self._notice("welcome", lang, texts.text("welcome", "sv"))
                if line is not None and line.verified:
                    return lang
        return None

    def set_language(self, conversation_id: str, language: str) -> None:
        with self.store.begin() as conn:
            conversations.set_language(conn, conversation_id, language)

    # ---- one turn -----------------------------------------------------------------
    async def handle(self, conversation: Any, text: str) -> TurnResult:
        started = time.perf_counter()
        conversation_id = conversation.id
        turn = int(conversation.turns) + 1

        choice = _language_choice(text, self.translator)
        if choice is not None:  # 3b. a button of the "which language?" question
            return await self._chosen_language(conversation, choice)

        masked = mask_pii(text)  # 2. before anything else sees the text
        detection = self.translator.detect(  # 3.
            masked.text,
            current=conversation.language if conversation.turns else None,
            explicit=conversation.language if conversation.language_explicit else None,
        )
        lang = str(detection.code)
        language = {
            "code": lang,
            "confidence": round(float(detection.confidence), 4),
            "method": str(detection.method),
        }

        if getattr(detection, "alternatives", ()):  # 3b. unsure between languages: ask
            asked = self._ask_language(conversation, turn, masked.text, detection)
            if asked is not None:
                return asked

        # 4. native languages go to Rasa as they are; others are translated to Swedish.
        translation_in = None
        rasa_lang = lang if lang in NATIVE else "sv"
        rasa_text: str | None = masked.text
        text_sv: str | None = masked.text if lang == "sv" else None
        if lang not in NATIVE:
            translation_in = self.translator.to_swedish(masked.text, lang)
            if translation_in.ok:
                rasa_text = text_sv = translation_in.text
            else:
                rasa_text = None

        now = self.clock()
        citizen = Outgoing(text=masked.text, language=lang, role="citizen", text_sv=text_sv)

        # 9. Every message, whatever the conversation's state, meets the safety lexicon (on the
        # original and on the Swedish text) before anything else is decided; the NLU's
        # sensitive intents join in below where Rasa is asked.
        hit = self.safety.match(masked.text, text_sv)
        checked = ["original", "swedish"] if text_sv and lang != "sv" else ["original"]

        # 5. a handed-over conversation goes to staff, not to Rasa.
        with self.store.connect() as conn:
            open_ticket = self.handoff.open_ticket(conn, conversation_id)
        if open_ticket is not None:
            safety_out = self._safety_messages(lang) if hit else []  # translated before the lock
            handed = self._to_staff(conversation_id, turn, now, citizen, safety_out, hit, checked,
                                    self._base_record(conversation_id, turn, now, masked, language,
                                                      translation_in, text_sv, None))
            if handed is not None:
                waiting, escalated = handed
                kind = "escalated" if escalated else "citizen_message"
                self.publish("staff", {"type": kind, "conversation_id": conversation_id,
                                       "ticket_id": waiting["ticket_id"]})
                if escalated:
                    self.publish("queue", {"type": "queue"})  # the order changed: positions move
                logger.info("turn: conversation=%s turn=%d lang=%s to staff ticket=%s status=%s safety=%s ms=%.1f",
                            conversation_id, turn, lang, waiting["ticket_id"], waiting["status"],
                            hit.reason if hit else None, (time.perf_counter() - started) * 1000)
                return TurnResult(conversation_id, _merge(language, self.translator, lang), safety_out, waiting,
                                  citizen.id)

        reply: RasaReply | None = None
        if rasa_text is not None:
            try:
                reply = await self.rasa.send(conversation_id, rasa_text, rasa_lang)  # 6.
            except RasaUnavailableError as exc:
                if hit is None:
                    raise AssistantUnavailableError(str(exc)) from exc
                logger.warning("turn: Rasa unavailable, safety path only (%s)", exc)

        outgoing: list[Outgoing] = []
        nlu = self._nlu(reply)
        base_record = self._base_record(conversation_id, turn, now, masked, language, translation_in,
                                        text_sv, reply)

        if rasa_text is None:
            # No usable translation: an honest message and a person with an interpreter.
            outgoing.extend(self._gateway_text("no_translation", lang, source=texts.ABOUT_SOURCE))
            handoff_reason: str | None = "language_support"
            acute = False
        else:
            for message in reply.answers if reply else []:
                outgoing.extend(self._answer(message, lang, rasa_lang))  # 7.
            rasa_handoff = reply.handoff if reply else None
            handoff_reason = rasa_handoff.get("reason") if rasa_handoff else None
            acute = bool(rasa_handoff.get("acute")) if rasa_handoff else False
        nlu_acute = acute
        if hit is not None and (handoff_reason is None or (hit.acute and not acute)):
            handoff_reason, acute = hit.reason, hit.acute
        if acute:
            outgoing = self._safety_messages(lang) + outgoing
            detected_by = (["nlu"] if nlu_acute else []) + (["lexicon"] if hit is not None else [])
            base_record["safety"] = {
                "reason": handoff_reason, "detected_by": detected_by,
                "pattern": hit.phrase if hit else None,
                "intent": nlu.get("intent") if nlu_acute else None,
                "texts_checked": checked, "ticket_before": None,
                "ticket_action": "opened", "sent_to_assistant": reply is not None,
            }

        with self.store.begin() as conn:  # 8. + 9. one transaction: all or nothing
            status = None
            if handoff_reason:
                reasoning: dict[str, Any] = {
                    "intent_ranking": nlu.get("ranking") if nlu else None,
                    "topic": nlu.get("topic") if nlu else None,
                    "safety_lexicon": hit.reason if hit else None,
                    "sources_shown": [m.source for m in outgoing if m.source],
                }
                if acute:  # the console marks the message that showed danger
                    reasoning["acute_messages"] = [{
                        "message_id": citizen.id, "reason": handoff_reason,
                        "detected_by": base_record["safety"]["detected_by"],
                        "pattern": hit.phrase if hit else None, "at": now.isoformat(),
                    }]
                ticket = self.handoff.create(
                    conn,
                    conversation_id=conversation_id,
                    reason=handoff_reason,
                    acute=acute,
                    language=lang,
                    reasoning=reasoning,
                    now=now,
                )
                status = self.handoff.status(conn, ticket)
            handoff = {"reason": handoff_reason, "acute": acute} if handoff_reason else None
            self._append_records(conn, base_record, outgoing, handoff, now)
            conversations.append_messages(conn, conversation_id, turn, [citizen, *outgoing], now)
            conversations.touch(conn, conversation_id, turn, lang, now)
        if status is not None:
            self.publish("staff", {"type": "ticket", "conversation_id": conversation_id,
                                   "ticket_id": status["ticket_id"]})
        logger.info(
            "turn: conversation=%s turn=%d lang=%s method=%s answers=%d handoff=%s ms=%.1f",
            conversation_id, turn, lang, language["method"], len(outgoing),
            handoff_reason, (time.perf_counter() - started) * 1000,
        )
        return TurnResult(conversation_id, _merge(language, self.translator, lang), outgoing, status, citizen.id)

    def _to_staff(
        self, conversation_id: str, turn: int, now: datetime, citizen: Outgoing, safety_out: list[Outgoing],
        hit: SafetyHit | None, checked: list[str], base_record: dict[str, Any],
    ) -> tuple[dict[str, Any], bool] | None:
        """Step 5 for a conversation with an open ticket: the message goes to staff (never to
        Rasa). A safety hit escalates the ticket, and the safety information (``safety_out``)
        is stored with its basis records in the same transaction. Returns the handoff status
        and whether the ticket was escalated, or None when the ticket closed meanwhile."""
        with self.store.begin() as conn:
            # Re-read with the ticket row locked: staff returning the conversation to the bot
            # at this moment either wait for this message or it goes to Rasa in ``handle``.
            ticket = self.handoff.open_ticket(conn, conversation_id, lock=True)
            if ticket is None:
                return None
            if hit is not None:
                base_record["safety"] = {
                    "reason": hit.reason, "detected_by": ["lexicon"], "pattern": hit.phrase, "intent": None,
                    "texts_checked": checked,
                    "ticket_before": {"status": ticket.status, "priority": ticket.priority, "reason": ticket.reason},
                    "ticket_action": "escalated", "sent_to_assistant": False,
                }
                ticket = self.handoff.escalate(conn, ticket, {
                    "message_id": citizen.id, "reason": hit.reason, "detected_by": "lexicon", "pattern": hit.phrase,
                }, now)
                self._append_records(conn, base_record, safety_out, {"reason": hit.reason, "acute": True}, now)
            conversations.append_messages(conn, conversation_id, turn, [citizen, *safety_out], now)
            conversations.touch(conn, conversation_id, turn, citizen.language, now)
            status = self.handoff.status(conn, ticket)
        if status is None:  # an open ticket always has a status; this keeps mypy and readers sure
            return None
        return status, hit is not None

    def _base_record(
        self, conversation_id: str, turn: int, now: datetime, masked: Any, language: dict[str, Any],
        translation_in: Any, text_sv: str | None, reply: RasaReply | None,
    ) -> dict[str, Any]:
        """What every basis record of this turn shares (step 8)."""
        return {
            "conversation_id": conversation_id,
            "turn": turn,
            "created_at": now.isoformat(),
            "user_text_masked": masked.text,
            "pii_masked": masked.kinds,
            "language": language,
            "translation_in": (
                {**(_translation_dict(translation_in) or {}), "text_sv": text_sv} if translation_in else None
            ),
            "text_sv": text_sv,
            "nlu": self._nlu(reply),
            "policy": self._policy(reply),
            "release": self.release.as_dict(),
            "safety": None,  # why safety information was given, when it was
        }

    @staticmethod
    def _append_records(
        conn: Connection, base_record: dict[str, Any], outgoing: list[Outgoing],
        handoff: dict[str, Any] | None, now: datetime,
    ) -> None:
        """One basis record per answer; its id goes to the widget with the answer."""
        for answer in outgoing:
            record = dict(base_record)
            record["id"] = answer.basis_id = new_id()
            record["response"] = {
                "id": answer.response_id,
                "text_sv": answer.text_sv,
                "source": answer.source,
            }
            record["translation_out"] = (answer.basis or {}).get("translation_out")
            record["handoff"] = handoff
            basis.append(conn, record, now)

    # ---- which language? ----------------------------------------------------------
    def _ask_language(self, conversation: Any, turn: int, text: str, detection: Any) -> TurnResult | None:
        """The detector is unsure between languages that share a script (Amharic/Tigrinya,
        Serbian/Russian/Ukrainian): instead of guessing, ask which one the citizen writes, in
        each of those languages, each line with a button naming its language, then in
        Swedish and English (translation/notices.yml ``choose_language``). None -- the turn
        goes on as usual -- when the message meets the safety lexicon, the conversation is
        with staff, or fewer than two of the languages are offered."""
        infos = {getattr(i, "code", None): i for i in self.translator.languages()}
        choices = [code for code in detection.alternatives if code in infos]
        if len(choices) < 2 or self.safety.match(text) is not None:
            return None
        response_id = f"gateway/{CHOOSE_LANGUAGE}"
        sv = self.translator.notice(CHOOSE_LANGUAGE, "sv")
        asked: list[Outgoing] = []
        for code in choices:
            line = self.translator.notice(CHOOSE_LANGUAGE, code)
            checked = line is not None and self.translator.notice(CHOOSE_LANGUAGE, code, verified_only=True) is not None
            asked.append(Outgoing(
                text=line or str(infos[code].name), language=code, response_id=response_id, text_sv=sv,
                machine_translated=line is not None and not checked,
                buttons=[{"title": str(infos[code].name), "payload": choice_payload(code)}]))
        for code in ("sv", "en"):
            original = self.translator.notice(CHOOSE_LANGUAGE, code)
            if original:
                asked.append(Outgoing(text=original, language=code, response_id=response_id, text_sv=sv))
        now = self.clock()
        citizen = Outgoing(text=text, language=str(detection.code), role="citizen")
        with self.store.begin() as conn:
            if self.handoff.open_ticket(conn, conversation.id) is not None:
                return None
            conversations.append_messages(conn, conversation.id, turn, [citizen, *asked], now)
            conversations.touch(conn, conversation.id, turn, str(conversation.language), now)
        logger.info("turn: conversation=%s turn=%d language unsure (%s): asked",
                    conversation.id, turn, "/".join(choices))
        language = {"code": str(conversation.language), "confidence": round(float(detection.confidence), 4),
                    "method": "unsure"}
        return TurnResult(conversation.id, _merge(language, self.translator, str(conversation.language)),
                          asked, None, citizen.id)

    async def _chosen_language(self, conversation: Any, code: str) -> TurnResult:
        """The citizen pressed a button of `_ask_language`: the language becomes their choice
        (as if picked in the widget's list) and the message we asked about is answered in it.
        A stale button (the question is no longer the last thing said) only sets the language."""
        self.set_language(conversation.id, code)
        with self.store.connect() as conn:
            fresh = conversations.get(conn, conversation.id)
            recent = conversations.recent(conn, conversation.id, 12)
        pending = bool(recent) and recent[0].response_id == f"gateway/{CHOOSE_LANGUAGE}"
        question = next((str(r.text) for r in recent if r.role == "citizen"), None)
        if pending and question and fresh is not None:
            return await self.handle(fresh, question)
        language = {"code": code, "confidence": 1.0, "method": "explicit"}
        return TurnResult(conversation.id, _merge(language, self.translator, code), [], None, "")

    # ---- helpers ------------------------------------------------------------------
    def _nlu(self, reply: RasaReply | None) -> dict[str, Any]:
        if reply is None:  # not sent to Rasa: the record keeps the same keys, all empty
            return {"model_id": None, "intent": None, "confidence": None, "ranking": [],
                    "topic": None, "topic_confidence": None, "topic_ranking": [], "entities": []}
        parse = reply.parse
        intent = parse.get("intent") or {}
        selector = parse.get("response_selector") or {}
        topic = None
        if intent.get("name") in ("faq", "faq_ambiguous", "sensitive"):
            topic = selector.get("topic")
        return {
            "model_id": reply.model_id,
            "intent": intent.get("name"),
            "confidence": intent.get("confidence"),
            "ranking": parse.get("intent_ranking", []),
            "topic": topic,
            "topic_confidence": selector.get("confidence") if topic else None,
            "topic_ranking": selector.get("ranking", []),
            "entities": [e for e in parse.get("entities", []) if e.get("entity") != "language"],
        }

    @staticmethod
    def _policy(reply: RasaReply | None) -> dict[str, Any] | None:
        if reply is None or not reply.actions:
            return None
        last = reply.actions[-1]
        return {"name": last.get("policy"), "action": last.get("action"), "actions": reply.actions}

    def _answer(self, message: BotMessage, lang: str, rasa_lang: str) -> list[Outgoing]:
        text = message.text or ""
        answer = self.catalogue.get(message.response_id)
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
                basis={"translation_out": _translation_dict(translated)})
            if getattr(translated, "tier", "good") == "poor" and str(message.response_id).startswith("utter_faq/"):
                return self._poor_tier(translated_answer, message, answer, text, source, lang)
            return [translated_answer]
        # No trustworthy translation: say so (under the one rule for fixed lines) and give
        # the answer in Swedish and English.
        out: list[Outgoing] = []
        english = answer.text("en") if answer else None
        sv = Outgoing(text=text, language="sv", source=source, response_id=message.response_id,
                      text_sv=text_sv, buttons=message.buttons,
                      basis={"translation_out": _translation_dict(translated)})
        notice_sv, notice_en = self._notice(ANSWER_IN_SV_EN, "sv"), self._notice(ANSWER_IN_SV_EN, "en")
        if notice_sv is not None and notice_en is not None:
            out.extend(self._localised(ANSWER_IN_SV_EN, lang, notice_sv.text, notice_en.text,
                                       texts.ABOUT_SOURCE))
        out.append(sv)
        if english:
            out.append(Outgoing(text=english, language="en", source=source,
                                response_id=message.response_id, text_sv=text_sv))
        return out

    def _poor_tier(
        self, translated: Outgoing, message: BotMessage, answer: Any, text: str,
        source: dict[str, Any] | None, lang: str,
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
        offer = texts.TEXTS["interpreter_offer"]
        return out + self._localised("interpreter_offer", lang, offer["sv"], offer["en"], texts.ABOUT_SOURCE)

    def _notice(self, key: str, lang: str, sv: str | None = None) -> Notice | None:
        """The fixed line ``key`` in ``lang`` and whether a translator has verified it, or
        None. With ``sv``, only a line that translates that Swedish text (the notices file's
        Swedish line is ``sv``), so a line never stands in for a text it does not say. The
        translation library raises for a key it does not define (e.g. ``welcome``,
        ``safety_info``); that means "no line", never a failed turn — least of all on the
        safety path."""
        try:
            line = self.translator.notice(key, lang)
            if line is None or (sv is not None and self.translator.notice(key, "sv") != sv):
                return None
            verified = self.translator.notice(key, lang, verified_only=True) is not None
        except TranslationError:
            return None
        return Notice(line, verified)
    def _translate_short(self, text: str, lang: str) -> str:
        result = self.translator.from_swedish(text, lang)
        return str(result.text) if result.ok else text

    def _gateway_text(self, key: str, lang: str, source: dict[str, Any] | None) -> list[Outgoing]:
        return self._localised(key, lang, texts.text(key, "sv"), texts.text(key, "en"), source)

    def _safety_messages(self, lang: str) -> list[Outgoing]:
        return self._localised("safety_info", lang, safety_info("sv"), safety_info("en"), SAFETY_SOURCE)

    @staticmethod
    def _native_text(key: str, lang: str, source: dict[str, Any] | None) -> Outgoing:
        return Outgoing(text=texts.text(key, lang), language=lang, source=source,
                        response_id=f"gateway/{key}", text_sv=texts.text(key, "sv"))

    def _localised(
        self, key: str, lang: str, sv: str, en: str, source: dict[str, Any] | None
    ) -> list[Outgoing]:
        """A fixed text we wrote in Swedish and English (``gateway/<key>``) for a citizen in
        ``lang``, under one rule:

        * Swedish or English: the text as written;
        * any other language: a line a translator has verified, as it is; else a line nobody
          has verified yet (translation/notices.yml) or a machine translation, labelled
          machine-translated; else nothing. The Swedish and the English text always follow,
          so the citizen never has only an unverified line.
        """
        response_id = f"gateway/{key}"
        if lang in NATIVE:
            return [Outgoing(text=sv if lang == "sv" else en, language=lang, source=source,
                             response_id=response_id, text_sv=sv)]
        out: list[Outgoing] = []
        line = self._notice(key, lang, sv)
        if line is not None and line.verified:
            out.append(Outgoing(text=line.text, language=lang, source=source,
                                response_id=response_id, text_sv=sv))
        elif line is not None:
            out.append(Outgoing(text=line.text, language=lang, source=source, machine_translated=True,
                                response_id=response_id, text_sv=sv,
                                basis={"translation_out": _unverified_line(lang)}))
        else:
            translated = self.translator.from_swedish(sv, lang)
            if translated.ok:
                out.append(Outgoing(text=translated.text, language=lang, source=source,
                                    machine_translated=True, response_id=response_id, text_sv=sv,
                                    basis={"translation_out": _translation_dict(translated)}))
        out.append(Outgoing(text=sv, language="sv", source=source, response_id=response_id, text_sv=sv))
        out.append(Outgoing(text=en, language="en", source=source, response_id=response_id, text_sv=sv))
        return out


#: The fixed line before an answer that could not be translated (translation/notices.yml).
ANSWER_IN_SV_EN = "answer_in_sv_en"


def _unverified_line(lang: str) -> dict[str, Any]:
    """Provenance of a fixed line no translator has verified (basis record, widget label)."""
    return {"engine": "notice", "model": "translation/notices.yml", "revision": "-", "score": None,
            "ok": True, "reason": None, "source_lang": "sv", "target_lang": lang, "verified": False}


def _merge(language: dict[str, Any], translator: TranslationPort, code: str) -> dict[str, Any]:
    info = _lang_info(translator.languages(), code)
    return {**language, "name": info["name"], "dir": info["dir"]}


#: Notices key, response id (``gateway/choose_language``) and button payload of the question.
CHOOSE_LANGUAGE = "choose_language"
_CHOICE = re.compile(r'/choose_language\{"language": ?"([a-z]{2,3})"\}')


def choice_payload(code: str) -> str:
    """What a "which language?" button sends back: ``/choose_language{"language":"am"}``."""
    return '/choose_language{"language":"' + code + '"}'


def _language_choice(text: str, translator: TranslationPort) -> str | None:
    """The offered language a button payload of the question names, else None (the message
    is an ordinary one, also when a citizen types something that looks like a payload)."""
    found = _CHOICE.fullmatch(text.strip())
    if found is None:
        return None
    code = found.group(1)
    return code if any(getattr(i, "code", None) == code for i in translator.languages()) else None
