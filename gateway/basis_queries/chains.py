"""The chain check (``make audit-verify``): every conversation's basis records form an intact
hash chain, their indexed columns say what the hashed record says, and every answer the
citizen saw still has its record, in order.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, union
from sqlalchemy.engine import Connection

from gateway import basis
from gateway.basis_queries.records import stored_record
from gateway.jsontypes import obj
from gateway.store import basis_records, messages


def _columns_problem(row: object, record: dict[str, object]) -> str | None:
    """The indexed columns must say what the hashed record says."""
    nlu = obj(record.get("nlu"))
    expected = {
        "conversation_id": record.get("conversation_id"),
        "turn": record.get("turn"),
        "topic": nlu.get("topic") or nlu.get("intent"),
        "language": obj(record.get("language")).get("code", "sv"),
        "handoff_reason": obj(record.get("handoff")).get("reason"),
    }
    for name, value in expected.items():
        if getattr(row, name) != value:
            return f"column '{name}' does not match the record"
    return None


def verify_conversation(conn: Connection, conversation_id: str) -> basis.ChainReport:
    """The hash chain, the indexed columns, and that every answer still has its record."""
    report = basis.verify_chain(conn, conversation_id)
    rows = conn.execute(
        select(basis_records)
        .where(basis_records.c.conversation_id == conversation_id)
        .order_by(basis_records.c.seq)
    ).all()
    problems: list[tuple[int, str]] = []
    if not report.ok and report.first_broken_seq is not None:
        problems.append((report.first_broken_seq, report.problem or "broken"))
    for row in rows:
        problem = _columns_problem(row, stored_record(row))
        if problem:
            problems.append((int(row.seq), problem))
            break
    answered = [
        r.basis_id
        for r in conn.execute(
            select(messages.c.basis_id)
            .where(messages.c.conversation_id == conversation_id, messages.c.basis_id.is_not(None))
            .order_by(messages.c.seq)
        )
    ]
    recorded = [r.id for r in rows]
    for position, basis_id in enumerate(answered, start=1):
        if position > len(recorded) or recorded[position - 1] != basis_id:
            problem = "an answer's record is missing" if basis_id not in recorded else "records out of order"
            problems.append((position, problem))
            break
    else:
        if len(recorded) > len(answered):
            problems.append((len(answered) + 1, "record without an answer"))
    if not problems:
        return basis.ChainReport(conversation_id, len(rows), True)
    seq, problem = min(problems, key=lambda p: p[0])  # on a tie, the chain itself speaks first
    return basis.ChainReport(conversation_id, len(rows), False, seq, problem)


def conversations_with_records(conn: Connection) -> list[str]:
    query = union(
        select(basis_records.c.conversation_id.label("id")).distinct(),
        select(messages.c.conversation_id.label("id")).where(messages.c.basis_id.is_not(None)).distinct(),
    )
    return sorted(str(r[0]) for r in conn.execute(query))


@dataclass
class VerifyResult:
    checked: int
    records: int
    broken: list[basis.ChainReport]

    @property
    def ok(self) -> bool:
        return not self.broken

    def as_dict(self) -> dict[str, object]:
        first = self.broken[0].as_dict() if self.broken else None
        return {
            "ok": self.ok,
            "conversations_checked": self.checked,
            "records_checked": self.records,
            "first_broken": first,
            "broken": [b.as_dict() for b in self.broken],
        }


def verify(conn: Connection, conversation_id: str | None = None) -> VerifyResult:
    ids = [conversation_id] if conversation_id else conversations_with_records(conn)
    reports = [verify_conversation(conn, cid) for cid in ids]
    return VerifyResult(len(reports), sum(r.records for r in reports), [r for r in reports if not r.ok])


def cli_verify(argv: list[str]) -> int:
    """``make audit-verify``: 0 when every chain is intact, 1 naming the first broken link."""
    from gateway.settings import Settings
    from gateway.store import Store

    parser = argparse.ArgumentParser(
        prog="python -m gateway.cli audit-verify",
        description="Check that no basis record was edited, inserted or deleted.",
    )
    parser.add_argument("--conversation", help="check only this conversation id")
    parser.add_argument("--database-url", help="default: GATEWAY_DATABASE_URL / DATABASE_URL or var/gateway.db")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.database_url:
        settings = Settings(database_url=args.database_url)
    url = settings.effective_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        print(f"audit-verify: there is no database at {url.removeprefix('sqlite:///')}; nothing to check.")
        return 0
    store = Store(url)
    try:
        store.create_all()
        with store.connect() as conn:
            result = verify(conn, args.conversation)
    finally:
        store.dispose()
    for report in result.broken:
        print(
            f"BROKEN conversation {report.conversation_id}: first broken record seq "
            f"{report.first_broken_seq} ({report.problem})",
            file=sys.stderr,
        )
    status = "all chains intact" if result.ok else f"{len(result.broken)} broken chain(s)"
    print(f"audit-verify: {result.checked} conversations, {result.records} records: {status}")
    return 0 if result.ok else 1
