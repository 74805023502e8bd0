"""The real OpenID Connect provider of the single sign-on tests (``provider.mjs``: panva's
oidc-provider under Node.js), started on a free loopback port and stopped afterwards.

``npm ci`` runs here when ``node_modules`` is missing (scripts/test.sh runs it first)."""
from __future__ import annotations

import json
import secrets
import select
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PASSWORD = "kommunens-testlosenord"  # what the provider's login page accepts


@dataclass(frozen=True)
class RunningProvider:
    issuer: str
    client_id: str
    client_secret: str
    password: str

    def settings(self, redirect_url: str) -> dict[str, str]:
        """The gateway settings that use this provider."""
        return {"oidc_issuer": self.issuer, "oidc_client_id": self.client_id,
                "oidc_client_secret": self.client_secret, "oidc_redirect_url": redirect_url}


def _node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("The single sign-on tests need Node.js and npm (Debian: apt-get install nodejs npm).")
    if not (HERE / "node_modules" / "oidc-provider").exists():
        result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True,
                                text=True, timeout=300)
        if result.returncode != 0:
            pytest.fail(f"`npm ci` in tests/oidc failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return node


@contextmanager
def oidc_provider(redirect_uris: Sequence[str], *, unverified: Sequence[str] = (),
                  host: str = "localhost") -> Iterator[RunningProvider]:
    """A provider whose one client (the gateway) may return to ``redirect_uris``. Its issuer
    is on ``host`` (``localhost``: another site than the gateway's 127.0.0.1, as in real life)."""
    client_id, client_secret = "karlstad-chatt", secrets.token_urlsafe(24)
    command = [_node(), str(HERE / "provider.mjs"), "--client-id", client_id,
               # "=": a random secret may start with "-", which Node's parseArgs refuses as a value
               f"--client-secret={client_secret}",
               "--password", PASSWORD, "--host", host]
    for uri in redirect_uris:
        command += ["--redirect-uri", uri]
    for login in unverified:
        command += ["--unverified", login]
    process = subprocess.Popen(command, cwd=HERE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([process.stdout], [], [], 90)  # Node.js starts slowly on 2 busy cores
        line = process.stdout.readline() if ready and process.stdout else ""
        if not line:
            process.kill()
            pytest.fail(f"the OIDC provider did not start:\n{process.stderr.read() if process.stderr else ''}")
        yield RunningProvider(json.loads(line)["issuer"], client_id, client_secret, PASSWORD)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
