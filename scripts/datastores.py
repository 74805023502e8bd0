"""Throwaway PostgreSQL and Redis servers of a cluster run (scripts/cluster.py).

``make cluster`` and the fault runs (scripts/faults.py) start their own PostgreSQL and Redis
on loopback ports of their own, with their data under the run's directory, so that stopping
them to test a fault never touches the PostgreSQL and Redis that the rest of the machine
uses. They are ordinary processes of the cluster (started, watched and stopped like the
gateways), built from Debian's ``postgresql`` and ``redis-server`` packages.

PostgreSQL refuses to run as root: as root its commands run as the ``postgres`` user
(``setpriv``, no extra process in between, so signals reach the server itself).
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

DATABASE = "karlstad"
#: PostgreSQL's connection limit in a cluster run (scripts/postgres_budget.py checks the pools fit)
MAX_CONNECTIONS = 200


class DatastoreError(RuntimeError):
    pass


def postgres_bindir() -> Path:
    """The newest installed PostgreSQL server's bin directory (Debian keeps it off PATH)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if not candidates:
        raise DatastoreError("PostgreSQL's server is not installed: `apt-get install postgresql`.")
    return candidates[-1].parent


def _as_postgres() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise DatastoreError("Running as root needs the 'postgres' user "
                             "(Debian's postgresql package makes it).") from exc
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]


def init_postgres(data_dir: Path) -> None:
    """Create a cluster in ``data_dir`` (trust auth on loopback) unless one is there."""
    if (data_dir / "PG_VERSION").exists():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    result = subprocess.run(
        [*_as_postgres(), str(postgres_bindir() / "initdb"), "-D", str(data_dir), "-U", "postgres",
         "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"],
        capture_output=True, text=True, timeout=120,
    )
    if result.returncode != 0:
        raise DatastoreError(
            f"initdb failed in {data_dir} (the postgres user must be able to reach that folder): "
            f"{result.stderr.strip()[-500:]}"
        )


def postgres_command(data_dir: Path, port: int, max_connections: int = MAX_CONNECTIONS) -> list[str]:
    """The PostgreSQL server in the foreground, on 127.0.0.1:``port``, its socket in its folder."""
    return [*_as_postgres(), str(postgres_bindir() / "postgres"), "-D", str(data_dir), "-p", str(port),
            "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={data_dir}",
            "-c", f"max_connections={max_connections}"]


def postgres_url(port: int, database: str = DATABASE) -> str:
    return f"postgresql://postgres@127.0.0.1:{port}/{database}"


def wait_postgres(port: int, timeout: float = 60.0, database: str = DATABASE) -> None:
    """Wait until the server answers, then create ``database`` if it does not exist."""
    import psycopg

    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(postgres_url(port, "postgres"), autocommit=True, connect_timeout=2) as conn:
                if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is None:
                    conn.execute(f'CREATE DATABASE "{database}"')
                return
        except psycopg.OperationalError as exc:
            last = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        time.sleep(0.3)
    raise DatastoreError(f"PostgreSQL on port {port} did not answer within {timeout:.0f} s: {last}")


def redis_command(data_dir: Path, port: int) -> list[str]:
    """Redis in the foreground on 127.0.0.1:``port``, keeping nothing on disk (as on this
    machine's own Redis: rate limits, locks and live updates are short-lived)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise DatastoreError("redis-server is not installed: `apt-get install redis-server`.")
    data_dir.mkdir(parents=True, exist_ok=True)
    return [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(data_dir), "--protected-mode", "yes"]


def redis_url(port: int) -> str:
    return f"redis://127.0.0.1:{port}/0"


def wait_redis(port: int, timeout: float = 30.0) -> None:
    import redis

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1).ping()
            return
        except (OSError, redis.RedisError):
            time.sleep(0.2)
    raise DatastoreError(f"Redis on port {port} did not answer within {timeout:.0f} s")
