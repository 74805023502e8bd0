"""The "which language?" question: when the detector is unsure between languages that share
a script (Amharic/Tigrinya, Serbian/Russian/Ukrainian), the assistant asks instead of
guessing, and a button of the question sets the conversation's language.

The question's lines come from translation/notices.yml (``choose_language``): one in each of
the languages, each with a button naming its language, then Swedish and English.
"""
from __future__ import annotations

import re
from datetime import datetime

from gateway import conversations
from gateway.conversations import ConversationState, Outgoing
from gateway.handoff import HandoffQueue
from gateway.safety import SafetyLexicon
from gateway.store import Store
from gateway.texts import NATIVE
from gateway.translation_port import TranslationPort
from translation.langid import Detection

#: Notices key, response id (``gateway/choose_language``) and button payload of the question.
CHOOSE_LANGUAGE = "choose_language"
RESPONSE_ID = f"gateway/{CHOOSE_LANGUAGE}"
_CHOICE = re.compile(r'/choose_language\{"language": ?"([a-z]{2,3})"\}')


def choice_payload(code: str) -> str:
    """What a "which language?" button sends back: ``/choose_language{"language":"am"}``."""
    return '/choose_language{"language":"' + code + '"}'


def language_choice(text: str, translator: TranslationPort) -> str | None:
    """The offered language a button payload of the question names, else None (the message
    is an ordinary one, also when a citizen types something that looks like a payload)."""
    found = _CHOICE.fullmatch(text.strip())
    if found is None:
        return None
    code = found.group(1)
    return code if any(i.code == code for i in translator.languages()) else None


class LanguageQuestion:
    """Asks which language the citizen writes, and finds the question a button answers."""

    def __init__(self, store: Store, translator: TranslationPort, handoff: HandoffQueue,
                 safety: SafetyLexicon) -> None:
        self.store = store
        self.translator = translator
        self.handoff = handoff
        self.safety = safety

    def ask(
        self, conversation: ConversationState, turn: int, text: str, detection: Detection, now: datetime
    ) -> tuple[Outgoing, list[Outgoing]] | None:
        """Store the citizen's message and the question for ``detection``'s alternatives;
        returns both. None -- the turn goes on as usual -- when the message meets the safety
        lexicon, the conversation is with staff, or fewer than two of the languages are
        offered."""
        infos = {i.code: i for i in self.translator.languages()}
        choices = [code for code in detection.alternatives if code in infos]
        if len(choices) < 2 or self.safety.match(text) is not None:
            return None
        sv = self.translator.notice(CHOOSE_LANGUAGE, "sv")
        asked: list[Outgoing] = []
        for code in choices:
            line = self.translator.notice(CHOOSE_LANGUAGE, code)
            checked = line is not None and self.translator.notice(CHOOSE_LANGUAGE, code, verified_only=True) is not None
            asked.append(Outgoing(
                text=line or str(infos[code].name), language=code, response_id=RESPONSE_ID, text_sv=sv,
                machine_translated=line is not None and not checked,
                buttons=[{"title": str(infos[code].name), "payload": choice_payload(code)}]))
        for code in NATIVE:
            original = self.translator.notice(CHOOSE_LANGUAGE, code)
            if original:
                asked.append(Outgoing(text=original, language=code, response_id=RESPONSE_ID, text_sv=sv))
        citizen = Outgoing(text=text, language=detection.code, role="citizen")
        with self.store.begin() as conn:
            if self.handoff.open_ticket(conn, conversation.id) is not None:
                return None
            conversations.append_messages(conn, conversation.id, turn, [citizen, *asked], now)
            conversations.touch(conn, conversation.id, turn, conversation.language, now)
        return citizen, asked

    def pending_question(self, conversation_id: str) -> str | None:
        """The citizen's message the question asked about, if the question is still the last
        thing said; None for a stale button."""
        with self.store.connect() as conn:
            recent = conversations.recent(conn, conversation_id, 12)
        if not recent or recent[0].response_id != RESPONSE_ID:
            return None
        return next((str(r.text) for r in recent if r.role == "citizen"), None)
