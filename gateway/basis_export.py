"""A citizen's copy of their own conversation's basis records (the right of access).

Two forms of the same records: JSON (each record as stored, with its hash, and the result of
the chain check) and readable text (each answer explained in plain language, as
"Varför fick jag det här svaret?" explains it, with the record's hash so the two can be
matched). The text is Swedish or English; a conversation in another language gets both.
Nothing here touches the database: ``collect`` is given a connection.
"""
from __future__ import annotations

from typing import TypedDict

from sqlalchemy.engine import Connection

from gateway import basis_queries, explain
from gateway.catalogue import Catalogue
from gateway.jsontypes import obj
from gateway.store import utcnow

ABOUT = {
    "sv": "Underlaget för varje svar du fick i samtalet (basis records). Varje post har "
          "hashen av den föregående, så ändringar går att upptäcka. Frågor: Kontaktcenter, "
          "054-540 00 00.",
    "en": "The basis for every answer you got in this conversation. Each record holds the "
          "hash of the previous one, so changes can be detected. Questions: the contact "
          "centre, +46 54 540 00 00.",
}

TEXT = {
    "sv": {
        "title": "Underlag för ditt samtal med Karlstads kommuns AI-assistent",
        "conversation": "Samtal", "exported": "Hämtat",
        "chain_ok": "Kontrollsummorna stämmer: ingen post har ändrats ({n} poster).",
        "chain_broken": "Kontrollsummorna stämmer inte från post {seq}: {problem}. Kontakta Kontaktcenter.",
        "none": "Samtalet har inga svar från assistenten ännu.",
        "answer": "Svar {n}", "asked": "Du skrev", "answer_sv": "Svaret på svenska",
        "feedback": "Ditt omdöme", "up": "tummen upp", "down": "tummen ner",
        "hash": "Kontrollsumma",
    },
    "en": {
        "title": "The basis of your conversation with Karlstad municipality's AI assistant",
        "conversation": "Conversation", "exported": "Downloaded",
        "chain_ok": "The checksums match: no record has been changed ({n} records).",
        "chain_broken": "The checksums do not match from record {seq}: {problem}. Contact the contact centre.",
        "none": "The assistant has not answered in this conversation yet.",
        "answer": "Answer {n}", "asked": "You wrote", "answer_sv": "The answer in Swedish",
        "feedback": "Your feedback", "up": "thumbs up", "down": "thumbs down",
        "hash": "Checksum",
    },
}


class BasisExport(TypedDict):
    """The JSON form: the records as stored (with the citizen's feedback) and the chain check."""

    conversation_id: str
    exported_at: str
    about: dict[str, str]
    chain: dict[str, object]
    records: list[dict[str, object]]


def collect(conn: Connection, conversation_id: str) -> BasisExport:
    """Every record of the conversation (with feedback) and the chain check, as JSON."""
    items = basis_queries.export_records(conn, basis_queries.RecordFilter(conversation_id=conversation_id))
    chain = basis_queries.verify_conversation(conn, conversation_id)
    return {
        "conversation_id": conversation_id,
        "exported_at": utcnow().isoformat(),
        "about": ABOUT,
        "chain": chain.as_dict(),
        "records": [{**item["record"], "feedback": item["feedback"]} for item in items],
    }


def text_languages(conversation_language: str) -> tuple[str, ...]:
    return (conversation_language,) if conversation_language in explain.NATIVE else explain.NATIVE


def as_text(export: BasisExport, catalogue: Catalogue, languages: tuple[str, ...]) -> str:
    """The export as plain text, one part per language in ``languages`` (sv and/or en)."""
    return "\n\n".join(_text(export, catalogue, lang) for lang in languages) + "\n"


def _text(export: BasisExport, catalogue: Catalogue, lang: str) -> str:
    t = TEXT[lang]
    chain = export["chain"]
    lines = [t["title"], "=" * len(t["title"]),
             f"{t['conversation']}: {export['conversation_id']}",
             f"{t['exported']}: {export['exported_at']}",
             t["chain_ok"].format(n=chain["records"]) if chain["ok"] else
             t["chain_broken"].format(seq=chain["first_broken_seq"], problem=chain["problem"]),
             ""]
    records = export["records"]
    if not records:
        lines.append(t["none"])
    for n, record in enumerate(records, start=1):
        heading = f"{t['answer'].format(n=n)} ({record.get('created_at', '')})"
        lines += [heading, "-" * len(heading)]
        if record.get("user_text_masked"):
            lines.append(f"{t['asked']}: {record['user_text_masked']}")
        answer_sv = obj(record.get("response")).get("text_sv")
        if answer_sv:
            lines.append(f"{t['answer_sv']}: {answer_sv}")
        explanation = explain.native_explanation(record, catalogue, lang)
        lines += [f"- {point['text']}" for point in explanation.points]
        if record.get("feedback") in ("up", "down"):
            lines.append(f"{t['feedback']}: {t[str(record['feedback'])]}")
        lines += [f"{t['hash']}: {record.get('hash')}", ""]
    lines.append(ABOUT[lang])
    return "\n".join(lines)
