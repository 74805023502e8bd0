"""Fixtures for the gateway tests: the real Redis and PostgreSQL (see tests/services.py)."""
from __future__ import annotations

from tests.services import postgres_url, redis_url

__all__ = ["postgres_url", "redis_url"]
