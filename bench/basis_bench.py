"""What writing the basis record costs a turn (target: <= 5 ms p50), on SQLite and PostgreSQL.

Each measured turn is the write transaction of ``gateway/turn.py`` step 8: insert the
citizen's message and the answer, update the conversation and — in every other turn — append
one basis record (``basis.append``: read the chain head, hash, insert). Turns with and without
the record alternate, over conversations whose chains grow to ``--turns-per-conversation``,
so both see the same database state. The difference of the p50s is what the record adds.

    .venv/bin/python bench/basis_bench.py [--turns 600] [--json var/reports/basis_bench.json]

PostgreSQL is measured in a throwaway database on $BENCH_POSTGRES_ADMIN_URL
(default postgresql://postgres@127.0.0.1:5432/postgres) when it is reachable.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, update  # noqa: E402

from gateway import basis  # noqa: E402
from gateway.auth import new_id  # noqa: E402
from gateway.store import Store, conversations, messages, utcnow  # noqa: E402

TARGET_MS = 5.0
ADMIN_URL = os.environ.get("BENCH_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ANSWER = ("När du ska bygga nytt eller bygga till behöver du oftast bygglov, medan en del åtgärder "
          "bara kräver en anmälan. Du ansöker i kommunens e-tjänst, där du också kan följa ditt ärende.")


def sample_record(conversation_id: str, turn: int) -> dict[str, Any]:
    """A record shaped and sized like the ones turn.py writes."""
    ranking = [{"name": n, "confidence": c} for n, c in (("faq", 0.93), ("request_human", 0.03),
                                                        ("greet", 0.02), ("sensitive", 0.01))]
    topics = [{"topic": f"faq/topic{i}", "confidence": round(0.9 / (i + 1), 3)} for i in range(5)]
    return {
        "conversation_id": conversation_id, "turn": turn, "created_at": utcnow().isoformat(),
        "user_text_masked": "Behöver jag bygglov för ett garage på tomten? Mitt nummer är [telefon]",
        "pii_masked": ["telefon"],
        "language": {"code": "sv", "confidence": 0.97, "method": "langdetect"},
        "translation_in": None, "text_sv": "Behöver jag bygglov för ett garage på tomten?",
        "nlu": {"model_id": "20261129-061200-model", "intent": "faq", "confidence": 0.93,
                "ranking": ranking, "topic": "faq/bygglov", "topic_confidence": 0.91,
                "topic_ranking": topics, "entities": []},
        "policy": {"name": "RulePolicy", "action": "action_answer_faq",
                   "actions": [{"action": "action_answer_faq", "policy": "RulePolicy", "confidence": 1.0}]},
        "release": {"version": "0.1.0+bench", "training_data": "f" * 64},
        "id": new_id(),
        "response": {"id": "utter_faq/bygglov", "text_sv": ANSWER,
                     "source": {"title": "Bra att veta vid bygglov och anmälan",
                                "url": "https://karlstad.se/bygga-bo-och-leva-hallbart/bygglov",
                                "owner": "Stadsbyggnadsförvaltningen", "reviewed": "2026-11-29"}},
        "translation_out": None, "handoff": None,
    }


def one_turn(store: Store, conversation_id: str, turn: int, seq: int, with_record: bool) -> tuple[float, float]:
    """(turn transaction ms, basis.append ms) for one turn."""
    now = utcnow()
    started = time.perf_counter()
    append_ms = 0.0
    with store.begin() as conn:
        basis_id = None
        if with_record:
            t = time.perf_counter()
            record = basis.append(conn, sample_record(conversation_id, turn), now)
            append_ms = (time.perf_counter() - t) * 1000
            basis_id = record["id"]
        conn.execute(insert(messages), [
            {"id": new_id(), "conversation_id": conversation_id, "seq": seq, "turn": turn, "role": "citizen",
             "text": "Behöver jag bygglov?", "text_sv": "Behöver jag bygglov?", "language": "sv",
             "machine_translated": False, "created_at": now},
            {"id": new_id(), "conversation_id": conversation_id, "seq": seq + 1, "turn": turn, "role": "bot",
             "text": ANSWER, "text_sv": ANSWER, "language": "sv", "machine_translated": False,
             "response_id": "utter_faq/bygglov", "basis_id": basis_id, "created_at": now},
        ])
        conn.execute(update(conversations).where(conversations.c.id == conversation_id)
                     .values(turns=turn, last_seen_at=now))
    return (time.perf_counter() - started) * 1000, append_ms


def measure(store: Store, turns: int, per_conversation: int) -> dict[str, Any]:
    store.create_all()
    plain: list[float] = []
    recorded: list[float] = []
    appends: list[float] = []
    done = 0
    while done < turns:
        cid = new_id()
        now = utcnow()
        with store.begin() as conn:
            conn.execute(insert(conversations).values(id=cid, token_hash="x", created_at=now, last_seen_at=now,
                                                      language="sv", language_explicit=False, turns=0))
        for turn in range(1, per_conversation + 1):
            with_record = turn % 2 == 0
            ms, append_ms = one_turn(store, cid, turn, 2 * turn - 1, with_record)
            if done >= 20:  # warm-up
                (recorded if with_record else plain).append(ms)
                if with_record:
                    appends.append(append_ms)
            done += 1
    p50_plain, p50_recorded = statistics.median(plain), statistics.median(recorded)
    return {
        "turns": len(plain) + len(recorded),
        "turn_p50_without_record_ms": round(p50_plain, 3),
        "turn_p50_with_record_ms": round(p50_recorded, 3),
        "added_p50_ms": round(p50_recorded - p50_plain, 3),
        "append_p50_ms": round(statistics.median(appends), 3),
        "append_p95_ms": round(statistics.quantiles(appends, n=20)[-1], 3),
    }


@contextmanager
def postgres_database() -> Iterator[str | None]:
    try:
        import psycopg

        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001 - reported in the table
        print(f"PostgreSQL not measured: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        yield None
        return
    name = f"basis_bench_{secrets.token_hex(4)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield "postgresql+psycopg://" + ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=600, help="turns per backend (half with a record)")
    parser.add_argument("--turns-per-conversation", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            results["sqlite"] = measure(store, args.turns, args.turns_per_conversation)
        finally:
            store.dispose()
    with postgres_database() as url:
        if url:
            store = Store(url)
            try:
                results["postgresql"] = measure(store, args.turns, args.turns_per_conversation)
            finally:
                store.dispose()

    header = (f"{'backend':<11} {'turns':>5}  {'turn p50 w/o record':>19}  {'turn p50 with record':>20}  "
              f"{'added p50':>9}  {'append p50':>10}  {'append p95':>10}")
    print("Basis record cost per turn (ms), target: added p50 <= 5 ms")
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        print(f"{name:<11} {r['turns']:>5}  {r['turn_p50_without_record_ms']:>19.2f}  "
              f"{r['turn_p50_with_record_ms']:>20.2f}  {r['added_p50_ms']:>9.2f}  "
              f"{r['append_p50_ms']:>10.2f}  {r['append_p95_ms']:>10.2f}")
    met = all(r["added_p50_ms"] <= TARGET_MS and r["append_p50_ms"] <= TARGET_MS for r in results.values())
    print(f"target {'met' if met else 'MISSED'}: writing the record adds <= {TARGET_MS:.0f} ms p50 per turn")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"target_ms": TARGET_MS, "met": met, "results": results}, indent=2),
                             encoding="utf-8")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
