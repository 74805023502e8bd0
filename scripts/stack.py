"""Starts, supervises and stops the three services (Rasa, action server, gateway) on 127.0.0.1.

Used by ``make run`` (scripts/run.py) and by the end-to-end tests. Runs in the app
environment and starts the Rasa processes with the Rasa environment's executables; it
imports nothing from either service.

Every service listens on loopback only: Rasa with ``-i 127.0.0.1``, the gateway with
``GATEWAY_HOST`` (default 127.0.0.1) and the action server through ``SANIC_HOST``
(rasa-sdk 3.6 has no interface flag; its ``endpoint.run`` reads that variable and
otherwise binds 0.0.0.0).

Once the stack is ready a ``Supervisor`` thread watches the processes: a service that
exits is started again after a back-off (1, 2, 4 ... 30 s), so a crashed Rasa does not
take the gateway down with it; the gateway answers 503 with a message (and safety
information for danger messages) until Rasa is back. A service that keeps failing right
after each start is given up on and reported.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

import httpx

from scripts.postgres_budget import rasa_sql_pool

ROOT = Path(__file__).resolve().parent.parent
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
APP_PYTHON = ROOT / ".venv" / "bin" / "python"


class StackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: How often (seconds) every Rasa asks the gateway whether another model release is live.
MODEL_PULL_SECONDS = 2

def rasa_endpoints(path: Path, action_url: str, database_url: str, redis_url: str, var_dir: Path) -> Path:
    """Write Rasa's endpoints.yml for this run: SQL tracker store, optional Redis lock store."""
    lines = ["action_endpoint:", f"  url: {action_url}", "tracker_store:", "  type: SQL"]
    if database_url:
        parsed = urlparse(database_url)
        lines += [
            "  dialect: postgresql",
            f"  url: {parsed.hostname or '127.0.0.1'}",
            f"  port: {parsed.port or 5432}",
            f"  db: {parsed.path.lstrip('/') or 'postgres'}",
        ]
        if parsed.username:
            lines.append(f"  username: {parsed.username}")
        if parsed.password:
            lines.append("  password: ${RASA_TRACKER_DB_PASSWORD}")
    else:
        lines += ["  dialect: sqlite", f"  db: {var_dir / 'rasa_tracker.db'}"]
    if redis_url:
        parsed = urlparse(redis_url)
        lines += [
            "lock_store:",
            "  type: redis",
            f"  url: {parsed.hostname or '127.0.0.1'}",
            f"  port: {parsed.port or 6379}",
            f"  db: {int((parsed.path or '/0').lstrip('/') or 0)}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class Stack:
    model: Path
    var_dir: Path = ROOT / "var"
    gateway_port: int = 8000
    rasa_port: int = 5005
    action_port: int = 5055
    database_url: str = ""
    redis_url: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    supervise: bool = True
    on_event: Callable[[str, str, str], None] | None = None  # (service, event, detail)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.token = os.environ.get("RASA_CHANNEL_TOKEN") or secrets.token_urlsafe(24)
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = self.log_dir or self.var_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.commands: dict[str, tuple[list[str], dict[str, str]]] = {}
        self.supervisor: Supervisor | None = None
        self._logs: dict[str, IO[bytes]] = {}
        self._lock = threading.Lock()

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(
            {
                "RASA_TELEMETRY_ENABLED": "false",
                "RASA_CHANNEL_TOKEN": self.token,
                "PYTHONPATH": str(ROOT),
                "TF_CPP_MIN_LOG_LEVEL": "3",
                # Rasa's resident memory 1.52 -> 1.20 GB without oneDNN's kernels (docs/nlu-eval.md)
                "TF_ENABLE_ONEDNN_OPTS": "0",
                "GATEWAY_PORT": str(self.gateway_port),
                "GATEWAY_RASA_URL": self.rasa_url,
                "GATEWAY_ACTION_SERVER_URL": f"http://127.0.0.1:{self.action_port}",
                "GATEWAY_VAR_DIR": str(self.var_dir),
                "GATEWAY_MODEL_FILE": str(self.model.resolve()),
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            }
        )
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
            password = urlparse(self.database_url).password
            if password:
                env["RASA_TRACKER_DB_PASSWORD"] = password
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(self.extra_env)
        return env

    def gateway_env(self) -> dict[str, str]:
        """The environment the services run with (for an operator command such as
        ``python -m gateway.cli release`` against the same database and var directory)."""
        return self._env()

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        assert self.log_dir is not None
        self.commands[name] = (args, env or {})
        old = self._logs.pop(name, None)
        if old is not None:
            old.close()
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed on respawn/stop
        self._logs[name] = log
        self.processes[name] = subprocess.Popen(
            args, cwd=ROOT, env={**self._env(), **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def respawn(self, name: str) -> subprocess.Popen[bytes]:
        """Start ``name`` again with the command it was first started with."""
        with self._lock:
            old = self.processes.get(name)
            if old is not None:
                _kill_group(old)  # whatever the crashed process left behind in its group
            args, env = self.commands[name]
            self._spawn(name, args, env)
            return self.processes[name]

    def start(self, timeout: float = 180.0) -> None:
        if not self.model.exists():
            raise StackError(f"Model {self.model} does not exist: run `make train` first.")
        endpoints = rasa_endpoints(
            self.var_dir / f"endpoints-{self.rasa_port}.yml",
            f"http://127.0.0.1:{self.action_port}/webhook",
            self.database_url,
            self.redis_url,
            self.var_dir,
        )
        self._spawn("actions", [str(RASA_BIN), "run", "actions", "--actions", "actions",
                                "-p", str(self.action_port)], {"SANIC_HOST": "127.0.0.1"})
        self._spawn("rasa", [str(RASA_BIN), "run", "--model", str(self.model),
                             "--credentials", str(ROOT / "bot" / "credentials.yml"),
                             "--endpoints", str(endpoints), "-i", "127.0.0.1",
                             "-p", str(self.rasa_port)],
                    # the live model release, pulled from the gateway and swapped in place
                    {"KARLSTAD_MODEL_URL": f"{self.gateway_url}/internal/rasa/model",
                     "KARLSTAD_MODEL_PULL_SECONDS": str(MODEL_PULL_SECONDS),
                     **rasa_sql_pool()})  # the tracker store's pool, sized for PostgreSQL
        self._spawn("gateway", [str(APP_PYTHON), "-m", "gateway"])
        self.wait_ready(timeout)
        if self.supervise:
            self.supervisor = Supervisor(self)
            self.supervisor.start()

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise StackError(f"{name} exited with code {proc.returncode}; see {self.log_dir}/{name}.log")
            try:
                response = httpx.get(f"{self.gateway_url}/readyz", timeout=2.0)
                if response.status_code == 200:
                    self._warm_up()
                    return
                last = response.text
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            time.sleep(0.5)
        self.stop()
        raise StackError(f"services not ready after {timeout:.0f}s: {last}")

    def _warm_up(self) -> None:
        """One turn straight to Rasa, so the first citizen does not wait for TensorFlow to
        build its graphs (1-3 s)."""
        try:
            httpx.post(
                f"{self.rasa_url}/webhooks/karlstad/webhook",
                headers={"Authorization": f"Bearer {self.token}"},
                json={"sender": "warm-up", "message": "hej", "metadata": {"language": "sv"}},
                timeout=30,
            )
        except httpx.HTTPError:
            pass

    def event(self, name: str, event: str, detail: str = "") -> None:
        if self.on_event is not None:
            self.on_event(name, event, detail)

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
            self.supervisor = None
        with self._lock:
            for proc in self.processes.values():
                if proc.poll() is None:
                    try:
                        os.killpg(proc.pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
            for proc in self.processes.values():
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    _kill_group(proc)
                    proc.wait(timeout=5)
            self.processes.clear()
            for log in self._logs.values():
                log.close()
            self._logs.clear()

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


class Supervisor(threading.Thread):
    """Restarts a service of ``stack`` that exits, after an exponential back-off.

    The delay before the n-th restart in a row is ``first_delay * 2**(n-1)``, at most
    ``max_delay``; a service that has run for ``stable_after`` seconds starts from the first
    delay again. A service that exits within ``stable_after`` of its start ``give_up_after``
    times in a row is not started again (event ``gave_up``): it cannot start (a port in use,
    a broken model), and restarting it for ever would only hide that.
    """

    def __init__(
        self,
        stack: Stack,
        poll_s: float = 0.5,
        first_delay: float = 1.0,
        max_delay: float = 30.0,
        stable_after: float = 120.0,
        give_up_after: int = 6,
    ) -> None:
        super().__init__(name="stack-supervisor", daemon=True)
        self.stack = stack
        self.poll_s = poll_s
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.stable_after = stable_after
        self.give_up_after = give_up_after
        self.restarts: dict[str, int] = {}
        self.failures: dict[str, int] = {}  # exits in a row, each soon after a start
        self.gave_up: set[str] = set()
        self._start_times: dict[str, float] = {name: time.monotonic() for name in stack.processes}
        self._due: dict[str, float] = {}
        self._stopping = threading.Event()

    def delay(self, name: str) -> float:
        failures = max(1, self.failures.get(name, 1))
        return float(min(self.max_delay, self.first_delay * 2 ** (failures - 1)))

    def run(self) -> None:
        while not self._stopping.wait(self.poll_s):
            for name, proc in list(self.stack.processes.items()):
                if name in self.gave_up:
                    continue
                now = time.monotonic()
                if proc.poll() is None:
                    if now - self._start_times.get(name, now) >= self.stable_after:
                        self.failures.pop(name, None)
                    continue
                if name not in self._due:
                    self._exited(name, proc.returncode, now)
                elif now >= self._due[name]:
                    self._restart(name, now)

    def _exited(self, name: str, code: int | None, now: float) -> None:
        if now - self._start_times.get(name, 0.0) < self.stable_after:
            self.failures[name] = self.failures.get(name, 0) + 1
        else:
            self.failures[name] = 1
        if self.failures[name] > self.give_up_after:
            self.gave_up.add(name)
            self.stack.event(name, "gave_up", f"exited {self.give_up_after} times in a row right after starting "
                                              f"(exit {code}); see {self.stack.log_dir}/{name}.log")
            return
        delay = self.delay(name)
        self._due[name] = now + delay
        self.stack.event(name, "exited", f"exit {code}; starting it again in {delay:.0f} s")

    def _restart(self, name: str, now: float) -> None:
        if self._stopping.is_set():
            return
        self._due.pop(name, None)
        proc = self.stack.respawn(name)
        self._start_times[name] = now
        self.restarts[name] = self.restarts.get(name, 0) + 1
        self.stack.event(name, "restarted", f"pid {proc.pid}")

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=10)


def main_model() -> Path:
    current = ROOT / "var" / "models" / "current.tar.gz"
    if not current.exists():
        sys.exit("No trained model: run `make train` first.")
    return current.resolve()
