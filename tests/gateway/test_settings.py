"""Settings say what they do: every variable the README documents is read, and production
asks only for secrets that protect something."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_production_starts_without_a_signing_key_that_signs_nothing() -> None:
    # Staff sessions are random tokens stored hashed in the database: nothing is signed, so a
    # production deployment must not be refused for lacking GATEWAY_SECRET_KEY.
    settings = Settings(environment="production", rasa_token="a-random-rasa-token-0123456789")
    assert settings.environment == "production"


def test_production_still_refuses_a_placeholder_rasa_token() -> None:
    with pytest.raises(ValueError, match="GATEWAY_RASA_TOKEN .* is missing or a placeholder"):
        Settings(environment="production", rasa_token="change-me")


def test_every_gateway_variable_in_the_readme_is_a_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(GATEWAY_[A-Z_]+)`", readme))
    assert documented, "the README's configuration table lists GATEWAY_ variables"
    fields = {f"GATEWAY_{name.upper()}" for name in Settings.model_fields}
    assert documented - fields == set(), (
        f"README documents variables the gateway does not read: {sorted(documented - fields)}"
    )
