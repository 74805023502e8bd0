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
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from gateway import basis, conversations, texts
from gateway.answers import AnswerRenderer
from gateway.auth import new_id
from gateway.basis import Release
from gateway.catalogue import Catalogue
from gateway.citizen_copy import CitizenCopy
from gateway.conversations import ConversationState, Outgoing
from gateway.handoff import HandoffQueue
from gateway.language_question import LanguageQuestion, language_choice
from gateway.metrics import GatewayMetrics, outcome_of, topic_label
from gateway.rasa_client import RasaPort, RasaReply, RasaUnavailableError
from gateway.releases import ReleaseRegistry
from gateway.safety import SafetyHit, SafetyLexicon
from gateway.store import Store, utcnow
from gateway.texts import NATIVE
from gateway.translation_port import TranslationPort, language_info
from translation.errors import LanguageError
from translation.langid import normalise_code, served
from translation.masking import mask_pii
from translation.service import Translation

logger = logging.getLogger(__name__)


class ConversationNotFoundError(Exception):
    pass


class AssistantUnavailableError(Exception):
    """Rasa is down: the citizen's message is not stored, the widget keeps it and retries."""


class LanguageDecision(TypedDict):
    """How the turn's language was decided (step 3): the code, the detector's confidence and
    the method it was decided by."""

    code: str
    confidence: float
    method: str


class NamedLanguage(LanguageDecision):
    """The decision with the language's own name and writing direction, for the widget."""

    name: str
    dir: str


@dataclass
class TurnResult:
    conversation_id: str
    language: NamedLanguage
    messages: list[Outgoing]
    handoff: dict[str, object] | None
    citizen_message_id: str


class TurnService:
    """Runs one citizen turn, steps 1-9 above, and creates conversations with their welcome."""

    def __init__(
        self,
        *,
        store: Store,
        rasa: RasaPort,
        catalogue: Catalogue,
        translator: TranslationPort,
        handoff: HandoffQueue,
        safety: SafetyLexicon,
        release: Release,
        releases: ReleaseRegistry | None = None,
        publish: Callable[[str, dict[str, object]], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.store = store
        self.rasa = rasa
        self.catalogue = catalogue
        self.translator = translator
        self.handoff = handoff
        self.safety = safety
        self.release = release
        self.releases = releases
        self.publish = publish or (lambda channel, event: None)
        self.clock = clock
        self.metrics = metrics if metrics is not None else GatewayMetrics()  # counted per turn
        self.copy = CitizenCopy(translator)
        self.answers = AnswerRenderer(catalogue, translator, self.copy)
        self.question = LanguageQuestion(store, translator, handoff, safety)

    def _answered_by(self, reply: RasaReply | None) -> tuple[Release, Catalogue]:
        """The release whose model answered ``reply`` and its answers (gateway/releases.py):
        during a model swap a turn may still be answered by the previous model, and its
        record and answer sources then name that model's release, marked as no longer live."""
        found = self.releases.for_model(reply.model_id) if (self.releases and reply) else None
        if found is None:
            return self.release, self.catalogue
        answered, catalogue = found
        live = self.releases.live_id() if self.releases else None
        return Release(self.release.version, answered.data_hash, answered.id, answered.id == live), catalogue

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
            welcome = self.copy.say("welcome", lang)
        else:
            start = self._welcome_language(preferred)
            lang = start or "sv"
            if start is None and preferred:
                welcome = [self.copy.native("welcome", code) for code in NATIVE]
            else:
                welcome = self.copy.say("welcome", lang)
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
                line = self.copy.notice("welcome", lang, texts.text("welcome", "sv"))
                if line is not None and line.verified:
                    return lang
        return None

    def set_language(self, conversation_id: str, language: str) -> None:
        with self.store.begin() as conn:
            conversations.set_language(conn, conversation_id, language)

    # ---- one turn -----------------------------------------------------------------
    async def handle(self, conversation: ConversationState, text: str) -> TurnResult:
        started = time.perf_counter()
        conversation_id = conversation.id
        turn = int(conversation.turns) + 1

        choice = language_choice(text, self.translator)
        if choice is not None:  # 3b. a button of the "which language?" question
            return await self._chosen_language(conversation, choice)

        masked = mask_pii(text)  # 2. before anything else sees the text
        detection = self.translator.detect(  # 3.
            masked.text,
            current=conversation.language if conversation.turns else None,
            explicit=conversation.language if conversation.language_explicit else None,
        )
        lang = detection.code
        language: LanguageDecision = {
            "code": lang,
            "confidence": round(float(detection.confidence), 4),
            "method": str(detection.method),
        }

        if detection.alternatives:  # 3b. unsure between languages: ask
            asked = self.question.ask(conversation, turn, masked.text, detection, self.clock())
            if asked is not None:
                citizen_asked, lines = asked
                logger.info("turn: conversation=%s turn=%d language unsure (%s): asked",
                            conversation_id, turn, "/".join(detection.alternatives))
                unsure: LanguageDecision = {"code": conversation.language, "method": "unsure",
                                            "confidence": round(float(detection.confidence), 4)}
                self.metrics.turn(conversation.language, "language_question", "none", time.perf_counter() - started)
                return TurnResult(conversation_id, self._language(unsure, conversation.language), lines, None,
                                  citizen_asked.id)

        # 4. native languages go to Rasa as they are; others are translated to Swedish.
        translation_in: Translation | None = None
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
        with self.metrics.stage("database"), self.store.connect() as conn:
            open_ticket = self.handoff.open_ticket(conn, conversation_id)
        if open_ticket is not None:
            safety_out = self.copy.safety(lang) if hit else []  # translated before the lock
            handed = self._to_staff(conversation_id, turn, now, citizen, safety_out, hit, checked,
                                    basis.turn_record(conversation_id, turn, now, masked, language,
                                                      translation_in, text_sv, None, self.release))
            if handed is not None:
                waiting, escalated = handed
                kind = "escalated" if escalated else "citizen_message"
                self.publish("staff", {"type": kind, "conversation_id": conversation_id,
                                       "ticket_id": waiting["ticket_id"]})
                if escalated:
                    self.publish("queue", {"type": "queue"})  # the order changed: positions move
                    self.metrics.escalation(hit.reason if hit else "other")
                self.metrics.turn(lang, "to_staff", "none", time.perf_counter() - started)
                logger.info("turn: conversation=%s turn=%d lang=%s to staff ticket=%s status=%s safety=%s ms=%.1f",
                            conversation_id, turn, lang, waiting["ticket_id"], waiting["status"],
                            hit.reason if hit else None, (time.perf_counter() - started) * 1000)
                return TurnResult(conversation_id, self._language(language, lang), safety_out, waiting,
                                  citizen.id)

        reply: RasaReply | None = None
        if rasa_text is not None:
            try:
                with self.metrics.stage("rasa"):
                    reply = await self.rasa.send(conversation_id, rasa_text, rasa_lang)  # 6.
            except RasaUnavailableError as exc:
                self.metrics.error("rasa_unavailable")
                if hit is None:
                    raise AssistantUnavailableError(str(exc)) from exc
                logger.warning("turn: Rasa unavailable, safety path only (%s)", exc)

        outgoing: list[Outgoing] = []
        release, catalogue = self._answered_by(reply)
        base_record = basis.turn_record(conversation_id, turn, now, masked, language, translation_in,
                                        text_sv, reply, release)
        nlu = base_record.nlu

        if rasa_text is None:
            # No usable translation: an honest message and a person with an interpreter.
            outgoing.extend(self.copy.say("no_translation", lang))
            handoff_reason: str | None = "language_support"
            acute = False
        else:
            for message in reply.answers if reply else []:
                outgoing.extend(self.answers.render(message, lang, rasa_lang, catalogue))  # 7.
            rasa_handoff = reply.handoff if reply else None
            handoff_reason = rasa_handoff.get("reason") if rasa_handoff else None
            acute = bool(rasa_handoff.get("acute")) if rasa_handoff else False
        nlu_acute = acute
        if hit is not None and (handoff_reason is None or (hit.acute and not acute)):
            handoff_reason, acute = hit.reason, hit.acute
        detected_by = (["nlu"] if nlu_acute else []) + (["lexicon"] if hit is not None else [])
        if acute:
            outgoing = self.copy.safety(lang) + outgoing
            base_record.safety = {
                "reason": handoff_reason, "detected_by": detected_by,
                "pattern": hit.phrase if hit else None,
                "intent": nlu.get("intent") if nlu_acute else None,
                "texts_checked": checked, "ticket_before": None,
                "ticket_action": "opened", "sent_to_assistant": reply is not None,
            }

        with self.metrics.stage("database"), self.store.begin() as conn:  # 8. + 9. all or nothing
            status = None
            if handoff_reason:
                reasoning: dict[str, object] = {
                    "intent_ranking": nlu.get("ranking") if nlu else None,
                    "topic": nlu.get("topic") if nlu else None,
                    "safety_lexicon": hit.reason if hit else None,
                    "sources_shown": [m.source for m in outgoing if m.source],
                }
                if acute:  # the console marks the message that showed danger
                    reasoning["acute_messages"] = [{
                        "message_id": citizen.id, "reason": handoff_reason,
                        "detected_by": detected_by,
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
            basis.append_answers(conn, base_record, outgoing, handoff, now)
            conversations.append_messages(conn, conversation_id, turn, [citizen, *outgoing], now)
            conversations.touch(conn, conversation_id, turn, lang, now)
        if status is not None:
            self.publish("staff", {"type": "ticket", "conversation_id": conversation_id,
                                   "ticket_id": status["ticket_id"]})
        if handoff_reason:
            self.metrics.handoff(handoff_reason, acute)
        self.metrics.turn(lang, outcome_of(handoff_reason, [m.response_id for m in outgoing], nlu, base_record.policy),
                          topic_label(nlu.get("topic"), catalogue.answers), time.perf_counter() - started)
        logger.info(
            "turn: conversation=%s turn=%d lang=%s method=%s answers=%d handoff=%s ms=%.1f",
            conversation_id, turn, lang, language["method"], len(outgoing),
            handoff_reason, (time.perf_counter() - started) * 1000,
        )
        return TurnResult(conversation_id, self._language(language, lang), outgoing, status, citizen.id)

    def _to_staff(
        self, conversation_id: str, turn: int, now: datetime, citizen: Outgoing, safety_out: list[Outgoing],
        hit: SafetyHit | None, checked: list[str], base_record: basis.BasisRecord,
    ) -> tuple[dict[str, object], bool] | None:
        """Step 5 for a conversation with an open ticket: the message goes to staff (never to
        Rasa). A safety hit escalates the ticket, and the safety information (``safety_out``)
        is stored with its basis records in the same transaction. Returns the handoff status
        and whether the ticket was escalated, or None when the ticket closed meanwhile."""
        with self.metrics.stage("database"), self.store.begin() as conn:
            # Re-read with the ticket row locked: staff returning the conversation to the bot
            # at this moment either wait for this message or it goes to Rasa in ``handle``.
            ticket = self.handoff.open_ticket(conn, conversation_id, lock=True)
            if ticket is None:
                return None
            if hit is not None:
                base_record.safety = {
                    "reason": hit.reason, "detected_by": ["lexicon"], "pattern": hit.phrase, "intent": None,
                    "texts_checked": checked,
                    "ticket_before": {"status": ticket.status, "priority": ticket.priority, "reason": ticket.reason},
                    "ticket_action": "escalated", "sent_to_assistant": False,
                }
                ticket = self.handoff.escalate(conn, ticket, {
                    "message_id": citizen.id, "reason": hit.reason, "detected_by": "lexicon", "pattern": hit.phrase,
                }, now)
                basis.append_answers(conn, base_record, safety_out, {"reason": hit.reason, "acute": True}, now)
            conversations.append_messages(conn, conversation_id, turn, [citizen, *safety_out], now)
            conversations.touch(conn, conversation_id, turn, citizen.language, now)
            status = self.handoff.status(conn, ticket)
        if status is None:  # an open ticket always has a status; this keeps mypy and readers sure
            return None
        return status, hit is not None

    # ---- which language? ----------------------------------------------------------
    async def _chosen_language(self, conversation: ConversationState, code: str) -> TurnResult:
        """The citizen pressed a button of `LanguageQuestion.ask`: the language becomes their choice
        (as if picked in the widget's list) and the message we asked about is answered in it.
        A stale button (the question is no longer the last thing said) only sets the language."""
        self.set_language(conversation.id, code)
        question = self.question.pending_question(conversation.id)
        with self.store.connect() as conn:
            fresh = conversations.get(conn, conversation.id)
        if question and fresh is not None:
            return await self.handle(fresh, question)
        language: LanguageDecision = {"code": code, "confidence": 1.0, "method": "explicit"}
        return TurnResult(conversation.id, self._language(language, code), [], None, "")

    def _language(self, language: LanguageDecision, code: str) -> NamedLanguage:
        """The turn's language decision with the language's name and direction."""
        info = language_info(self.translator, code)
        return {"code": language["code"], "confidence": language["confidence"], "method": language["method"],
                "name": info.name if info else code, "dir": info.dir if info else "ltr"}
