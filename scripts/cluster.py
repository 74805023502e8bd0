"""``make cluster``: the replicated stack on 127.0.0.1, without containers.

Two gateways behind HAProxy (deploy/haproxy.cfg), two Rasa servers, two action servers, and
a PostgreSQL and a Redis of the cluster's own (scripts/datastores.py), each a process on a
loopback port. It is the same set of parts as deploy/compose.yml and deploy/k8s/, started
the way scripts/stack.py starts ``make run``: the cluster *is* a ``Stack`` with more
processes, so it shares its spawning, logs, ``respawn`` and the restarting ``Supervisor``.

Every gateway is given every Rasa replica (``GATEWAY_RASA_URLS``; docs/replicas.md): a
conversation goes to one replica by the hash of its id and fails over to the other while it
is down. Rasa *i* calls action server *i*, which gateway *i* checks in ``/readyz``. HAProxy
checks each gateway's ``/readyz`` and believes nothing a client says about its address: it
sets X-Forwarded-For, and the gateways trust it from 127.0.0.1 only
(``GATEWAY_TRUSTED_PROXIES``). With ``rasa_replicas=1`` every gateway uses Rasa 1 (the
one-replica figure of ``make faults``).

    .venv/bin/python scripts/cluster.py [--port 8000] [--rasa-replicas 2]
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import datastores  # noqa: E402
from scripts.postgres_budget import postgres_headroom, rasa_sql_pool  # noqa: E402
from scripts.stack import (  # noqa: E402
    APP_PYTHON,
    MODEL_PULL_SECONDS,
    RASA_BIN,
    ROOT,
    Stack,
    StackError,
    Supervisor,
    _kill_group,
    free_port,
    main_model,
    rasa_endpoints,
)

DEPLOY = ROOT / "deploy"
REPLICAS = 2


@dataclass
class ClusterPorts:
    """Every port of a cluster; the defaults are those of ``make cluster`` and compose."""

    lb: int = 8000
    gateways: tuple[int, ...] = (8101, 8102)
    rasa: tuple[int, ...] = (5101, 5102)
    actions: tuple[int, ...] = (5151, 5152)
    postgres: int = 5433
    redis: int = 6380

    @classmethod
    def free(cls) -> ClusterPorts:
        """Free ports (tests and fault runs, beside anything else on the machine)."""
        return cls(free_port(), (free_port(), free_port()), (free_port(), free_port()),
                   (free_port(), free_port()), free_port(), free_port())


def require_haproxy() -> str:
    """The haproxy binary; installed from Debian's package when missing and we are root."""
    found = shutil.which("haproxy")
    if found:
        return found
    if os.geteuid() == 0:
        print("Installing Debian's haproxy package...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-q", "haproxy"], check=False, capture_output=True, env=env)
        found = shutil.which("haproxy")
    if not found:
        raise StackError("HAProxy is needed in front of the gateways: `sudo apt-get install haproxy`.")
    return found


@dataclass
class Cluster(Stack):
    """The replicated stack. ``database_url``/``redis_url`` empty: the cluster starts its own."""

    ports: ClusterPorts = field(default_factory=ClusterPorts)
    rasa_replicas: int = REPLICAS

    def __post_init__(self) -> None:
        self.own_postgres = not self.database_url
        self.own_redis = not self.redis_url
        if self.own_postgres:
            self.database_url = datastores.postgres_url(self.ports.postgres)
        if self.own_redis:
            self.redis_url = datastores.redis_url(self.ports.redis)
        # Stack's single-service fields name the first replica (its _env reads them).
        self.gateway_port = self.ports.gateways[0]
        self.rasa_port = self.ports.rasa[0]
        self.action_port = self.ports.actions[0]
        super().__post_init__()

    @property
    def url(self) -> str:
        """Where citizens connect: the load balancer."""
        return f"http://127.0.0.1:{self.ports.lb}"

    def gateway_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports.gateways]

    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports.rasa[: self.rasa_replicas]]

    def gateway_env(self, i: int) -> dict[str, str]:
        """Every gateway knows every Rasa replica (GATEWAY_RASA_URLS: a conversation goes to
        one by the hash of its id, failing over when it is down) and believes X-Forwarded-For
        from HAProxy on loopback only."""
        return {"GATEWAY_PORT": str(self.ports.gateways[i]),
                "GATEWAY_RASA_URLS": ",".join(self.rasa_urls()),
                "GATEWAY_RASA_URL": self.rasa_urls()[0],
                "GATEWAY_ACTION_SERVER_URL": f"http://127.0.0.1:{self.ports.actions[i]}",
                "GATEWAY_TRUSTED_PROXIES": "127.0.0.1",
                "GATEWAY_VAR_DIR": str(self.var_dir / f"gateway-{i + 1}")}

    def start(self, timeout: float = 300.0) -> None:
        if not self.model.exists():
            raise StackError(f"Model {self.model} does not exist: run `make train` first.")
        haproxy = require_haproxy()
        deadline = time.monotonic() + timeout
        if self.own_postgres:
            # every pool fits in the cluster's PostgreSQL (raises PoolBudgetError otherwise)
            postgres_headroom(datastores.MAX_CONNECTIONS, self.rasa_replicas, REPLICAS)
            pg_dir = self.var_dir / "postgres"
            datastores.init_postgres(pg_dir)
            self._spawn("postgres", datastores.postgres_command(pg_dir, self.ports.postgres))
            datastores.wait_postgres(self.ports.postgres)
        if self.own_redis:
            self._spawn("redis", datastores.redis_command(self.var_dir / "redis", self.ports.redis))
            datastores.wait_redis(self.ports.redis)
        for i in range(REPLICAS):
            self._spawn(f"actions-{i + 1}", [str(RASA_BIN), "run", "actions", "--actions", "actions",
                                             "-p", str(self.ports.actions[i])], {"SANIC_HOST": "127.0.0.1"})
        for i in range(self.rasa_replicas):
            endpoints = rasa_endpoints(self.var_dir / f"endpoints-rasa-{i + 1}.yml",
                                       f"http://127.0.0.1:{self.ports.actions[i]}/webhook",
                                       self.database_url, self.redis_url, self.var_dir)
            self._spawn(f"rasa-{i + 1}", [str(RASA_BIN), "run", "--model", str(self.model),
                                          "--credentials", str(ROOT / "bot" / "credentials.yml"),
                                          "--endpoints", str(endpoints), "-i", "127.0.0.1",
                                          "-p", str(self.ports.rasa[i])],
                        {"KARLSTAD_MODEL_URL": f"http://127.0.0.1:{self.ports.gateways[i]}/internal/rasa/model",
                         "KARLSTAD_MODEL_PULL_SECONDS": str(MODEL_PULL_SECONDS),
                         **rasa_sql_pool()})  # the tracker store's pool, sized for PostgreSQL
        for i in range(REPLICAS):
            # One after the other: the first registers the model release in the shared database.
            self._spawn(f"gateway-{i + 1}", [str(APP_PYTHON), "-m", "gateway"], self.gateway_env(i))
            self._wait(f"{self.gateway_urls()[i]}/healthz", deadline)
        self._spawn("haproxy", [haproxy, "-db", "-f", str(DEPLOY / "haproxy.cfg")], {
            "LB_ADDR": "127.0.0.1", "LB_PORT": str(self.ports.lb), "KARLSTAD_DEPLOY": str(DEPLOY),
            **{f"GATEWAY_{i + 1}_PORT": str(p) for i, p in enumerate(self.ports.gateways)}})
        for url in [*self.gateway_urls(), self.url]:
            self._wait(f"{url}/readyz", deadline)
        for i in range(self.rasa_replicas):
            self.rasa_port = self.ports.rasa[i]
            self._warm_up()
        self.rasa_port = self.ports.rasa[0]
        if self.supervise:
            self.supervisor = Supervisor(self)
            self.supervisor.start()

    def _wait(self, url: str, deadline: float) -> None:
        last = ""
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    self.stop()
                    raise StackError(f"{name} exited with code {proc.returncode}; see {self.log_dir}/{name}.log")
            try:
                response = httpx.get(url, timeout=3.0)
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            time.sleep(0.5)
        self.stop()
        raise StackError(f"{url} not ready in time: {last}")

    def stop_service(self, name: str) -> None:
        """Stop one process as an operator would (SIGTERM; PostgreSQL's fast shutdown, SIGINT).
        ``respawn(name)`` starts it again."""
        proc = self.processes[name]
        sig = signal.SIGINT if name == "postgres" else signal.SIGTERM
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            _kill_group(proc)

    def stop(self) -> None:
        """Everything, the load balancer and services first and the datastores last."""
        if self.supervisor is not None:
            self.supervisor.stop()
            self.supervisor = None
        stores = ("postgres", "redis")
        for names in ([n for n in self.processes if n not in stores], [n for n in self.processes if n in stores]):
            for name in names:
                proc = self.processes[name]
                if proc.poll() is None:
                    try:
                        os.killpg(proc.pid, signal.SIGINT if name == "postgres" else signal.SIGTERM)
                    except ProcessLookupError:
                        pass
            for name in names:
                try:
                    self.processes[name].wait(timeout=20)
                except subprocess.TimeoutExpired:
                    _kill_group(self.processes[name])
        self.processes.clear()
        for log in self._logs.values():
            log.close()
        self._logs.clear()


def _report(name: str, event: str, detail: str) -> None:
    labels = {"exited": "stopped unexpectedly", "restarted": "started again", "gave_up": "could not be restarted"}
    print(f"{time.strftime('%H:%M:%S')} {name} {labels.get(event, event)} ({detail})", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="Start the replicated stack on 127.0.0.1 (docs/drift.md).")
    parser.add_argument("--port", type=int, default=int(os.environ.get("CLUSTER_PORT", "8000")),
                        help="the load balancer's port (default 8000)")
    parser.add_argument("--rasa-replicas", type=int, choices=(1, 2), default=REPLICAS)
    args = parser.parse_args()
    cluster = Cluster(model=main_model(), var_dir=ROOT / "var" / "cluster", ports=ClusterPorts(lb=args.port),
                      rasa_replicas=args.rasa_replicas, database_url=os.environ.get("DATABASE_URL", ""),
                      redis_url=os.environ.get("REDIS_URL", ""), on_event=_report)
    print("Starting PostgreSQL, Redis, 2 action servers, "
          f"{args.rasa_replicas} Rasa, 2 gateways and HAProxy (Rasa takes ~30 s to load)...", flush=True)
    started = time.monotonic()
    try:
        cluster.start()
    except (StackError, datastores.DatastoreError) as exc:
        print(f"Could not start: {exc}", file=sys.stderr)
        return 1
    p = cluster.ports
    print(f"\nReady in {time.monotonic() - started:.0f} s.\n"
          f"  Load balancer (citizens, staff): {cluster.url}/\n"
          f"  Gateways:  {', '.join(cluster.gateway_urls())}\n"
          f"  Rasa:      {', '.join(str(x) for x in p.rasa[:args.rasa_replicas])}   "
          f"actions: {', '.join(str(x) for x in p.actions)}\n"
          f"  Database:  {cluster.database_url}   Redis: {cluster.redis_url}\n"
          f"  Logs:      {cluster.log_dir}\n\nPress Ctrl-C to stop everything.", flush=True)
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopping:
            time.sleep(0.5)
    finally:
        print("Stopping...", flush=True)
        cluster.stop()
        print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
