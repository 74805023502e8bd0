"""The safety lexicon: the net under the NLU model. It must catch plain Swedish and English
descriptions of danger, stay quiet on idioms and ordinary municipal questions, and work on
the Swedish translation of any other language."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gateway.safety import ACUTE, SafetyLexicon, safety_info
from tests.gateway.staff_helpers import RasaRecorder, settings_for, start_conversation

ROOT = Path(__file__).resolve().parents[2]
LEXICON = SafetyLexicon()

# Written for this test, not taken from the NLU training data.
DANGER = [
    ("Min sambo slog mig igår och jag är rädd", "sensitive/violence_close_relationship"),
    ("min exman hotar mej hela tiden", "sensitive/violence_close_relationship"),
    ("Jag blev misshandlad av min pojkvän", "sensitive/violence_close_relationship"),
    ("pappa slår mamma när han druckit", "sensitive/violence_close_relationship"),
    ("Han sparkade mig i magen", "sensitive/violence_close_relationship"),
    ("my boyfriend hit me again", "sensitive/violence_close_relationship"),
    ("She choked me last night", "sensitive/violence_close_relationship"),
    ("jag tänker ta livet av mig ikväll", "sensitive/suicide"),
    ("Jag vill inte leva längre.", "sensitive/suicide"),
    ("har självmordstankar hela tiden", "sensitive/suicide"),
    ("I keep hurting myself", "sensitive/suicide"),
    ("i want to die", "sensitive/suicide"),
    ("Mina föräldrar slår min lillebror", "sensitive/child_at_risk"),
    ("jag tror att barnen i huset bredvid far illa", "sensitive/child_at_risk"),
    ("my stepdad hits my little sister", "sensitive/child_at_risk"),
    ("grannen säger att han ska döda mig", "sensitive/threat_or_crime"),
    ("det står en man med en kniv utanför, han har en kniv", "sensitive/threat_or_crime"),
    ("someone is threatening me online", "sensitive/threat_or_crime"),
    ("he says he is going to kill me", "sensitive/threat_or_crime"),
    ("vill int leva mer", "sensitive/suicide"),
    ("she swallowed a whole bottle of pills", "sensitive/suicide"),
    ("min sambo tar hela min pension", "sensitive/violence_close_relationship"),
    ("my husband won't let me leave the flat", "sensitive/violence_close_relationship"),
    ("en vuxen ber min tioåring att skicka bilder", "sensitive/child_at_risk"),
    ("grannbarnen får ingen mat, mamma dricker hela tiden", "sensitive/child_at_risk"),
    ("någon hotar att lägga ut bilder på mig", "sensitive/threat_or_crime"),
    ("a man waving a knife outside the library", "sensitive/threat_or_crime"),
]
QUIET = [
    "Det slår mig att avgiften har höjts",
    "Tanken slog mig när jag läste om detaljplanen",
    "beats me why the bus is late",
    "she hit me up about the football club",
    "He beat me at chess in the library",
    "Jag kan inte vara med på mötet på torsdag",
    "Hur lång tid tar det att få bygglov?",
    "Var slänger jag en trasig kniv och gamla batterier?",
    "Min man vill veta när soptunnan töms",
    "Kan jag döda ogräs med kokande vatten i kolonilotten?",
    "my son needs a place in preschool",
    "Hur slår man på värmen i föreningslokalen?",
    "the rope swing at the playground is broken",
    "my son sends pictures from his school trips",
    "my kid has bruises after football practice",
    "vi vill skicka bilder på vårt barn till förskolans album",
    "kan jag skicka bilder på hålet i gatan",
    "pushed my bike to the recycling centre, is it open",
]


@pytest.mark.parametrize("text,reason", DANGER)
def test_danger_is_recognised(text: str, reason: str) -> None:
    hit = LEXICON.match(text)
    assert hit is not None, text
    assert hit.reason == reason and hit.acute


@pytest.mark.parametrize("text", QUIET)
def test_idioms_and_ordinary_questions_stay_quiet(text: str) -> None:
    assert LEXICON.match(text) is None


def test_the_hit_names_a_pattern_not_the_citizens_words() -> None:
    hit = LEXICON.match("min sambo slår mig")
    assert hit is not None and "sambo" not in hit.phrase


def _examples() -> tuple[list[str], list[str]]:
    acute, ordinary = [], []
    for path in sorted((ROOT / "nlu_data").glob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []) or []:
            intent = item.get("intent")
            if not intent or "examples" not in item:
                continue
            lines = [line[2:].strip() for line in item["examples"].splitlines() if line.strip().startswith("- ")]
            if intent in ACUTE:
                acute += lines
            elif not intent.startswith("sensitive/") and intent != "request_human":
                ordinary += lines
    return acute, ordinary


def test_lexicon_catches_most_acute_examples_and_no_ordinary_question() -> None:
    """Measured over the editors' examples in nlu_data/: a safety net under the model (which
    learns these examples) must not fire on the FAQ questions people actually ask."""
    acute, ordinary = _examples()
    assert len(acute) > 100 and len(ordinary) > 500
    caught = [text for text in acute if LEXICON.match(text)]
    false_alarms = [text for text in ordinary if LEXICON.match(text)]
    assert false_alarms == [], false_alarms
    assert len(caught) / len(acute) >= 0.9, f"caught {len(caught)}/{len(acute)}"


def test_safety_information_has_every_number_in_swedish_and_english() -> None:
    for lang in ("sv", "en"):
        text = safety_info(lang)
        for number in ("112", "90101", "020-50 50 50", "1177"):
            assert number in text, (lang, number)
    assert "Kvinnofridslinjen" in safety_info("en") and "ring 112" in safety_info("sv")


async def test_danger_in_another_language_is_caught_on_its_swedish_translation(tmp_path: Path) -> None:
    """Arabic text, machine-translated to Swedish (a stand-in translator), with an NLU model
    that misses it: the lexicon on the Swedish text still gives safety information first and
    opens an acute ticket."""
    from gateway.main import create_app, default_translator

    @dataclass
    class Result:
        text: str
        ok: bool = True
        engine: str = "table"
        model: str = "table"
        revision: str = "1"
        score: float | None = 1.0
        reason: str | None = None
        source_lang: str = "ar"
        target_lang: str = "sv"

    class TableTranslator:
        def __init__(self, real: Any) -> None:
            self.real = real

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

        def to_swedish(self, text: str, lang: str) -> Result:
            return Result("min man slår mig varje dag") if lang == "ar" else self.real.to_swedish(text, lang)

    rasa = RasaRecorder()
    app = create_app(settings_for(tmp_path), translator_factory=lambda s: TableTranslator(default_translator(s)),
                     rasa_transport=httpx.MockTransport(rasa))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
            cid, auth = await start_conversation(client, language="ar")
            body = (await client.post(f"/api/conversations/{cid}/messages", headers=auth,
                                      json={"text": "زوجي يضربني كل يوم"})).json()
            assert rasa.seen == ["min man slår mig varje dag"]  # Rasa saw Swedish and missed it
            texts = [m["text"] for m in body["messages"]]
            safety = [i for i, t in enumerate(texts) if "112" in t]
            assert safety and safety[0] == 0, texts
            assert body["handoff"]["reason"] == "sensitive/violence_close_relationship"
            assert body["handoff"]["status"] == "waiting"
