"""``make bench``: throughput and latency of Swedish turns, gateway vs bare Rasa.

Starts the stack (Rasa, action server, gateway) on free loopback ports with a fresh var/
directory, then sends the same Swedish questions at 1, 8 and 32 concurrent conversations
through the gateway and straight to Rasa's webhook (the karlstad channel), in one run.
Prints a table with turns/s, p50/p95 latency and the resident memory of each process, where
a gateway turn's time went (its stage timings from /metrics: the mean per turn of each stage,
the rest of the turn, and the HTTP and framework time around it), the
model-swap section (bench/swap_bench.py: an edited example to the new model served, under load),
then runs the other benchmarks (translation, basis records) if present.
"""
from __future__ import annotations

import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.swap_bench import print_table, swap_under_load  # noqa: E402
from scripts.stack import Stack, free_port, main_model  # noqa: E402

QUESTIONS = [
    "Behöver jag bygglov för att bygga ett garage?",
    "När töms soptunnan?",
    "Hur ansöker jag om plats i förskola?",
    "Vad kostar det att parkera i centrum?",
    "Var ligger närmaste återvinningscentral?",
    "Hur söker jag färdtjänst?",
    "Vilka öppettider har biblioteket?",
    "Hur anmäler jag ett trasigt gatljus?",
]
TURNS_PER_CONVERSATION = 6
CONCURRENCY = (1, 8, 32)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    pids = [pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


async def new_conversation(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    response = await client.post("/api/conversations")
    if response.status_code != 201:
        raise RuntimeError(f"gateway answered {response.status_code}: {response.text[:200]}")
    created = response.json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    return f"/api/conversations/{created['conversation_id']}/messages", headers


async def gateway_worker(
    client: httpx.AsyncClient, turns: int, latencies: list[float],
    conversations: list[tuple[str, dict[str, str]]] | None = None,
) -> None:
    """Turns only: the conversations are opened before the clock starts (Rasa's side has
    no such call), so both columns count the same work."""
    done = 0
    pool = list(conversations or [])
    while done < turns:
        url, headers = pool.pop() if pool else await new_conversation(client)
        for i in range(min(TURNS_PER_CONVERSATION, turns - done)):
            started = time.perf_counter()
            response = await client.post(url, headers=headers, json={"text": QUESTIONS[(done + i) % len(QUESTIONS)]})
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"gateway answered {response.status_code}: {response.text[:200]}")
        done += TURNS_PER_CONVERSATION


async def rasa_worker(client: httpx.AsyncClient, turns: int, latencies: list[float]) -> None:
    done = 0
    while done < turns:
        sender = uuid4().hex
        for i in range(min(TURNS_PER_CONVERSATION, turns - done)):
            started = time.perf_counter()
            response = await client.post(
                "/webhooks/karlstad/webhook",
                json={
                    "sender": sender,
                    "message": QUESTIONS[(done + i) % len(QUESTIONS)],
                    "metadata": {"language": "sv"},
                },
            )
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"rasa answered {response.status_code}")
        done += TURNS_PER_CONVERSATION


STAGE_SERIES = re.compile(
    r'^karlstad_(stage|turn)_duration_seconds_(sum|count)\{(?:stage|outcome)="(\w+)"\} (\S+)$', re.MULTILINE)


async def stage_totals(client: httpx.AsyncClient) -> dict[str, float]:
    """Seconds spent so far in each stage of the gateway's turns (``stage:NAME``), in whole
    turns (``turn``), and the number of turns (``turns``), from its /metrics."""
    totals: dict[str, float] = {"turn": 0.0, "turns": 0.0}
    for kind, field, name, value in STAGE_SERIES.findall((await client.get("/metrics")).text):
        if kind == "stage" and field == "sum":
            totals[f"stage:{name}"] = float(value)
        elif kind == "turn":
            totals["turn" if field == "sum" else "turns"] += float(value)
    return totals


def breakdown(before: dict[str, float], after: dict[str, float], latencies: list[float]) -> dict[str, float]:
    """Mean ms per turn: each stage, the rest of the turn, and the time outside the turn
    (HTTP, routing, validation, the conversation's lock and read, the response)."""
    turns = after["turns"] - before["turns"]
    if turns <= 0:
        return {}
    per = {k.removeprefix("stage:"): (after[k] - before.get(k, 0.0)) * 1000 / turns
           for k in after if k.startswith("stage:")}
    turn = (after["turn"] - before["turn"]) * 1000 / turns
    per["rest of turn"] = turn - sum(per.values())
    per["outside turn"] = statistics.mean(latencies) - turn
    return per


async def measure(kind: str, stack: Stack, concurrency: int, total_turns: int) -> dict[str, float]:
    if kind == "gateway":
        client = httpx.AsyncClient(base_url=stack.gateway_url, timeout=60)
        worker = gateway_worker
    else:
        client = httpx.AsyncClient(
            base_url=stack.rasa_url, timeout=60, headers={"Authorization": f"Bearer {stack.token}"}
        )
        worker = rasa_worker
    latencies: list[float] = []
    stages: dict[str, float] = {}
    per_worker = max(1, total_turns // concurrency)
    async with client:
        await worker(client, 4, [])  # warm-up
        if kind == "gateway":
            needed = -(-per_worker // TURNS_PER_CONVERSATION)
            pools = [[await new_conversation(client) for _ in range(needed)] for _ in range(concurrency)]
            before = await stage_totals(client)
            started = time.perf_counter()
            await asyncio.gather(*(gateway_worker(client, per_worker, latencies, pool) for pool in pools))
            stages = breakdown(before, await stage_totals(client), latencies)
        else:
            started = time.perf_counter()
            await asyncio.gather(*(worker(client, per_worker, latencies) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        **({f"ms:{k}": v for k, v in stages.items()} if kind == "gateway" else {}),
        "turns": len(latencies),
        "tps": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p95": latencies[int(0.95 * (len(latencies) - 1))],
    }


def main() -> int:
    total = int(os.environ.get("BENCH_TURNS", "192"))
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(
            model=main_model(),
            var_dir=Path(tmp),
            gateway_port=free_port(),
            rasa_port=free_port(),
            action_port=free_port(),
            extra_env={
                "GATEWAY_RATE_LIMIT_PER_MINUTE": "100000",
                "GATEWAY_CREATE_RATE_LIMIT_PER_MINUTE": "100000",
                "GATEWAY_LOG_LEVEL": "WARNING",
            },
        )
        print("Starting the stack for the benchmark...", flush=True)
        stack.start(timeout=240)
        try:
            rows = []
            for concurrency in CONCURRENCY:
                rasa = asyncio.run(measure("rasa", stack, concurrency, total))
                gateway = asyncio.run(measure("gateway", stack, concurrency, total))
                rows.append((concurrency, rasa, gateway))
            memory = {name: rss_mb(proc.pid) for name, proc in stack.processes.items()}
            swap = None if os.environ.get("BENCH_NO_SWAP") else swap_under_load(stack)
        finally:
            stack.stop()

    print()
    print("Swedish turns: gateway vs bare Rasa (karlstad channel), same run, this machine")
    print(f"{'conv':>5} | {'rasa t/s':>9} {'p50 ms':>7} {'p95 ms':>7} | "
          f"{'gateway t/s':>11} {'p50 ms':>7} {'p95 ms':>7} | {'gw/rasa':>7}")
    print("-" * 78)
    for concurrency, rasa, gateway in rows:
        ratio = gateway["tps"] / rasa["tps"] if rasa["tps"] else 0.0
        print(
            f"{concurrency:>5} | {rasa['tps']:>9.1f} {rasa['p50']:>7.1f} {rasa['p95']:>7.1f} | "
            f"{gateway['tps']:>11.1f} {gateway['p50']:>7.1f} {gateway['p95']:>7.1f} | {ratio:>6.0%}"
        )
    print()
    names = [k for k in rows[0][2] if k.startswith("ms:")]
    print("Where a gateway turn's time went: mean ms per turn (stages from the gateway's /metrics)")
    print(f"{'conv':>5} | " + " ".join(f"{k[3:]:>12}" for k in names))
    for concurrency, _rasa, gateway in rows:
        print(f"{concurrency:>5} | " + " ".join(f"{gateway.get(k, 0.0):>12.2f}" for k in names))
    print()
    print("Resident memory after the run (MB): " + ", ".join(f"{k} {v:.0f}" for k, v in memory.items()))
    print()
    if swap is not None:
        print_table(swap)
        print()
    extras = () if os.environ.get("BENCH_TURNS_ONLY") else ("translation_bench.py", "basis_bench.py")
    for extra in extras:
        path = ROOT / "bench" / extra
        if path.exists():
            print(f"== {extra} ==", flush=True)
            subprocess.run([sys.executable, str(path)], cwd=ROOT, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
