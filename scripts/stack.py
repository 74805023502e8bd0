"""Starts and stops the three services (Rasa, action server, gateway) on 127.0.0.1.

Used by ``make run`` (scripts/run.py) and by the end-to-end tests. Runs in the app
environment and starts the Rasa processes with the Rasa environment's executables; it
imports nothing from either service.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
APP_PYTHON = ROOT / ".venv" / "bin" / "python"


class StackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.token = os.environ.get("RASA_CHANNEL_TOKEN") or secrets.token_urlsafe(24)
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = self.log_dir or self.var_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)

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
                "GATEWAY_PORT": str(self.gateway_port),
                "GATEWAY_RASA_URL": self.rasa_url,
                "GATEWAY_ACTION_SERVER_URL": f"http://127.0.0.1:{self.action_port}",
                "GATEWAY_VAR_DIR": str(self.var_dir),
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

    def _spawn(self, name: str, args: list[str]) -> None:
        assert self.log_dir is not None
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(
            args, cwd=ROOT, env=self._env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

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
                                "-p", str(self.action_port)])
        self._spawn("rasa", [str(RASA_BIN), "run", "--model", str(self.model),
                             "--credentials", str(ROOT / "bot" / "credentials.yml"),
                             "--endpoints", str(endpoints), "-i", "127.0.0.1",
                             "-p", str(self.rasa_port)])
        self._spawn("gateway", [str(APP_PYTHON), "-m", "gateway"])
        self.wait_ready(timeout)

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

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name, proc in self.processes.items():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self.processes.clear()

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main_model() -> Path:
    current = ROOT / "var" / "models" / "current.tar.gz"
    if not current.exists():
        sys.exit("No trained model: run `make train` first.")
    return current.resolve()
