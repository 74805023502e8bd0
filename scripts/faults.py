"""``make faults``: throughput and fault runs on the replicated stack (issue 16, item 6).

Starts a cluster of its own (scripts/cluster.py) on free loopback ports, with its own
PostgreSQL and Redis in a temporary folder, so no fault touches the machine's shared
servers. Then, with a bounded load of citizens through HAProxy (scripts/loadclient.py):

1. turns/s with every gateway on one Rasa replica, then with two (target >= 1.5x);
2. one at a time, a gateway, a Rasa replica, an action server, Redis and PostgreSQL are
   stopped, kept down for a while and started again, under load.

Afterwards every conversation is read back through the load balancer and a table is printed:
messages accepted and lost, 500s (target 0), 503s, and two recovery figures: the outage,
from the first failed attempt after the stop until turns succeed again (target <= 5 s for a
replica), and the same end point counted from the stop command (for a replica; a Rasa that
is stopped finishes its turns for several seconds first) or from the start command (for
Redis and PostgreSQL, which every replica shares: turns fail while they are down, with 503).
Exit code 1 when a target is missed.

    .venv/bin/python scripts/faults.py [--quick] [--concurrency 8] [--json report.json]
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.cluster import Cluster, ClusterPorts  # noqa: E402
from scripts.cpu_caps import capped  # noqa: E402
from scripts.loadclient import Attempt, Load, Verdict, verify  # noqa: E402
from scripts.stack import main_model  # noqa: E402

FAULTS = ["gateway-1", "rasa-1", "actions-1", "redis", "postgres"]
SHARED = {"redis", "postgres"}
RECOVERY_TARGET_S = 5.0
SPEEDUP_TARGET = 1.5


@dataclass
class FaultResult:
    part: str
    down_s: float
    messages: int
    ok: int
    http_503: int
    http_500: int
    other: int  # other statuses and attempts without any answer
    recovery_s: float | None  # None: turns never stopped succeeding
    outage_s: float | None  # from the first failed attempt until turns succeed again
    recovered_from: str  # "stop" or "start"
    back_s: float  # until the part itself was ready again after its start
    stop_took_s: float  # how long the part took to stop
    failures_s: tuple[float, float] | None  # first and last failed attempt, seconds after the stop


def _turns_ok(attempts: list[Attempt], since: float) -> list[Attempt]:
    return [a for a in attempts if a.kind == "message" and a.sent >= since and a.status == 200]


def recovery(attempts: list[Attempt], since: float) -> float | None:
    """Seconds from ``since`` until turns succeed again: the answer time of the first
    successful turn sent after the last failed attempt that followed ``since``."""
    failures = [a for a in attempts if a.sent >= since and a.status not in (200, 201)]
    if not failures:
        return None
    last_failure = max(a.sent for a in failures)
    after = [a.done for a in attempts if a.kind == "message" and a.status == 200 and a.sent >= last_failure]
    return (min(after) - since) if after else float("inf")


def first_success(attempts: list[Attempt], since: float) -> float | None:
    """Seconds from ``since`` until the first turn sent after it succeeded."""
    done = [a.done for a in attempts if a.kind == "message" and a.status == 200 and a.sent >= since]
    return (min(done) - since) if done else None


def outage(attempts: list[Attempt], since: float) -> float | None:
    """Seconds from the first failed attempt sent after ``since`` until turns succeed again."""
    failures = [a.sent for a in attempts if a.sent >= since and a.status not in (200, 201)]
    end = recovery(attempts, since)
    if not failures or end is None:
        return None
    return end - (min(failures) - since)


def cpu_ticks(cluster: Cluster) -> dict[str, int]:
    """CPU time (clock ticks) used so far by each process of the cluster, and by the whole
    machine as "busy" (from /proc, Linux)."""
    ticks: dict[str, int] = {}
    pids = {name: str(proc.pid) for name, proc in cluster.processes.items()}
    for name, pid in {**pids, "load-client": "self"}.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks[name] = int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            continue
    cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks["busy"] = sum(int(v) for v in cpu) - int(cpu[3]) - int(cpu[4])  # all but idle and iowait
    return ticks


async def throughput(cluster: Cluster, seconds: float, concurrency: int) -> tuple[float, dict[str, float]]:
    """Turns/s through the load balancer, and the cores each process (and the machine) used."""
    load = Load(cluster.url, deadline=time.monotonic() + seconds, max_messages=100_000)
    before = cpu_ticks(cluster)
    started = time.monotonic()
    await load.run(concurrency, turns=6)
    elapsed = time.monotonic() - started
    after = cpu_ticks(cluster)
    hz = os.sysconf("SC_CLK_TCK")
    cores = {name: (after[name] - before[name]) / hz / elapsed for name in after if name in before}
    return len(_turns_ok(load.attempts, started)) / elapsed, cores


def repoint(cluster: Cluster, rasa_replicas: int) -> None:
    """Give every gateway Rasa 1 only (one replica) or both, restarting them one at a time."""
    cluster.rasa_replicas = rasa_replicas
    for i in range(len(cluster.ports.gateways)):
        name = f"gateway-{i + 1}"
        args, env = cluster.commands[name]
        cluster.commands[name] = (args, {**env, **cluster.gateway_env(i)})
        cluster.respawn(name)
        wait_ok(f"{cluster.gateway_urls()[i]}/readyz", 120)
    wait_ok(f"{cluster.url}/readyz", 30)
    time.sleep(3)  # HAProxy's checks see the last gateway up again (rise 2 x 1 s)


def wait_ok(url: str, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if httpx.get(url, timeout=3).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url} not ready after {timeout:.0f} s")


def ready_url(cluster: Cluster, part: str) -> str:
    """Where to see that ``part`` works again after its start."""
    index = int(part[-1]) - 1 if part[-1].isdigit() else 0
    if part.startswith("gateway-"):
        return f"{cluster.gateway_urls()[index]}/readyz"
    if part.startswith("rasa-"):
        return f"http://127.0.0.1:{cluster.ports.rasa[index]}/"  # Rasa answers once its model is loaded
    if part.startswith("actions-"):
        return f"http://127.0.0.1:{cluster.ports.actions[index]}/health"
    return f"{cluster.url}/readyz"


async def fault_run(cluster: Cluster, part: str, down_s: float, settle_s: float,
                    concurrency: int) -> tuple[FaultResult, Load]:
    """Load for the whole run; ``part`` stops after ``settle_s`` and starts after ``down_s``."""
    budget = settle_s + down_s + 240 + settle_s
    load = Load(cluster.url, deadline=time.monotonic() + budget, max_messages=20_000)
    task = asyncio.create_task(load.run(concurrency))
    await asyncio.sleep(settle_s)
    stopped = time.monotonic()
    await asyncio.to_thread(cluster.stop_service, part)
    stop_took = time.monotonic() - stopped
    await asyncio.sleep(down_s)
    started = time.monotonic()
    await asyncio.to_thread(cluster.respawn, part)
    back = await asyncio.to_thread(wait_ok, ready_url(cluster, part), 240)
    await asyncio.sleep(settle_s)
    load.deadline = time.monotonic()  # stop: no new message; those under way finish
    await task
    since = started if part in SHARED else stopped
    messages = [a for a in load.attempts if a.kind == "message"]
    statuses = [a.status for a in load.attempts]
    failed = [a.sent for a in load.attempts if a.status not in (200, 201)]
    return FaultResult(
        part=part, down_s=down_s, messages=load.messages, ok=len([a for a in messages if a.status == 200]),
        http_503=statuses.count(503), http_500=statuses.count(500),
        other=len([s for s in statuses if s not in (200, 201, 500, 503)]),
        recovery_s=recovery(load.attempts, since) if part not in SHARED else first_success(load.attempts, since),
        recovered_from="start" if part in SHARED else "stop",
        outage_s=outage(load.attempts, stopped),
        back_s=back, stop_took_s=stop_took,
        failures_s=(min(failed) - stopped, max(failed) - stopped) if failed else None,
    ), load


def table(results: list[FaultResult], verdict: Verdict) -> str:
    head = f"{'part stopped':<12} {'down s':>6} {'msgs':>5} {'ok':>5} {'503':>4} {'500':>4} {'other':>5} " \
           f"{'outage s':>8} {'recovered s':>16} {'back s':>6}"
    lines = [head, "-" * len(head)]
    for r in results:
        rec = "-" if r.recovery_s is None else f"{r.recovery_s:.1f} after {r.recovered_from}"
        out = "none" if r.outage_s is None else f"{r.outage_s:.1f}"
        lines.append(f"{r.part:<12} {r.down_s:>6.0f} {r.messages:>5} {r.ok:>5} {r.http_503:>4} {r.http_500:>4} "
                     f"{r.other:>5} {out:>8} {rec:>16} {r.back_s:>6.1f}")
    lines.append(f"read back: {verdict.conversations} conversations, {verdict.accepted} accepted messages, "
                 f"{verdict.lost} lost, {verdict.extra} half-written or doubled, {verdict.broken_chains} broken chains")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="karlstad-faults-"))
    work.chmod(0o755)  # PostgreSQL runs as the postgres user and must reach its folder
    cluster = Cluster(model=main_model(), var_dir=work, ports=ClusterPorts.free(), supervise=False,
                      extra_env={"GATEWAY_ENVIRONMENT": "production",
                                 # one client address (the load client) behind the proxy
                                 "GATEWAY_RATE_LIMIT_PER_MINUTE": "1000",
                                 "GATEWAY_CREATE_RATE_LIMIT_PER_MINUTE": "100000",
                                 "GATEWAY_OPENING_HOURS": "mon-sun 00:00-23:59"})
    print(f"Starting the cluster in {work} (2 gateways, 2 Rasa, 2 action servers, HAProxy, "
          "PostgreSQL, Redis)...", flush=True)
    t0 = time.monotonic()
    cluster.start(timeout=420)
    print(f"ready in {time.monotonic() - t0:.0f} s", flush=True)
    report: dict[str, object] = {}
    status = 0
    try:
        ratio = None
        if not args.skip_throughput:
            seconds = 20.0 if args.quick else args.seconds
            rasa = {name: proc.pid for name, proc in cluster.processes.items() if name.startswith("rasa-")}
            caps = (capped(rasa, args.rasa_cores) if args.rasa_cores
                    else contextlib.nullcontext({name: [] for name in rasa}))
            with caps as moved:
                if args.rasa_cores:
                    print(f"each Rasa replica capped at {args.rasa_cores} cores (cgroup; "
                          + ", ".join(f"{n}: {len(p)} processes" for n, p in sorted(moved.items())) + ")",
                          flush=True)
                repoint(cluster, 1)
                one, cores_one = await throughput(cluster, seconds, args.concurrency)
                repoint(cluster, 2)
                two, cores_two = await throughput(cluster, seconds, args.concurrency)
            ratio = two / one
            print(f"turns/s through HAProxy, concurrency {args.concurrency}, {seconds:.0f} s each: "
                  f"1 Rasa replica {one:.2f}, 2 replicas {two:.2f} ({ratio:.2f}x; target >= {SPEEDUP_TARGET}x)",
                  flush=True)
            for label, cores in (("1 replica", cores_one), ("2 replicas", cores_two)):
                print(f"  cores used with {label}: machine {cores.get('busy', 0):.2f} of {os.cpu_count()}; "
                      + ", ".join(f"{n} {c:.2f}" for n, c in sorted(cores.items()) if n != "busy" and c >= 0.02),
                      flush=True)
            report["throughput"] = {"one": one, "two": two, "ratio": ratio, "concurrency": args.concurrency,
                                    "rasa_cores_cap": args.rasa_cores,
                                    "seconds": seconds, "cores_one": cores_one, "cores_two": cores_two}
        results: list[FaultResult] = []
        loads: list[Load] = []
        parts = [] if args.skip_faults else args.only or (FAULTS[:2] if args.quick else FAULTS)
        for part in parts:
            result, load = await fault_run(cluster, part, args.down, args.settle, args.concurrency)
            loads.append(load)
            print(f"  {part}: {result.ok}/{result.messages} turns ok, 503={result.http_503} "
                  f"500={result.http_500}, failed attempts (s after stop) {result.failures_s}, "
                  f"stopping took {result.stop_took_s:.1f} s", flush=True)
            results.append(result)
        conversations = [c for load in loads for c in load.conversations]
        verdict = await verify(cluster.url, conversations)
        print(table(results, verdict))
        for problem in verdict.problems[:10]:
            print("  problem:", problem)
        report["faults"] = [asdict(r) for r in results]
        report["verify"] = {k: v for k, v in asdict(verdict).items() if k != "problems"}
        missed = [r.part for r in results if r.http_500 or (r.part not in SHARED and r.outage_s is not None
                                                             and r.outage_s > RECOVERY_TARGET_S)]
        slow = ratio is not None and ratio < SPEEDUP_TARGET
        if verdict.lost or verdict.extra or verdict.broken_chains or missed or slow:
            print(f"Targets missed: {', '.join(missed) or '-'}; lost {verdict.lost}, "
                  f"replica speed-up {'-' if ratio is None else f'{ratio:.2f}x'}")
            status = 1
    finally:
        cluster.stop()
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description="Throughput and fault runs through HAProxy (loopback only).")
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("FAULTS_CONCURRENCY", "8")))
    parser.add_argument("--seconds", type=float, default=40.0, help="each throughput measurement")
    parser.add_argument("--down", type=float, default=10.0, help="how long each part stays stopped")
    parser.add_argument("--settle", type=float, default=8.0, help="load before the stop and after recovery")
    parser.add_argument("--quick", action="store_true", help="20 s throughput, gateway and Rasa faults only")
    parser.add_argument("--only", nargs="*", choices=FAULTS, help="only these fault runs")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--rasa-cores", type=float, default=None,
                        help="cap each Rasa replica at this many cores during the throughput runs (cgroup; "
                             "as on a node of its own), e.g. 0.5")
    parser.add_argument("--skip-faults", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
