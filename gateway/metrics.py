"""Prometheus metrics of one gateway process: what its citizen turns did, counted where they
are handled, and what is true now (queue, releases, replicas), read when Prometheus scrapes.

Every series is listed in ``docs/metrics.md``. Labels take values from fixed lists only: a
language the translator serves, an outcome, a topic the answering release has an answer for,
a handoff reason of ``gateway/handoff/reasons.py``; anything else is ``other``. Citizens' text
never becomes a label or a value.

One :class:`GatewayMetrics` per app, with its own ``CollectorRegistry`` (built in the
lifespan, not at import time), so several apps in one test process do not share counters.
"""
from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest

from gateway.basis import is_fallback
from gateway.handoff.reasons import BY_CODE, PRIORITY_LABELS

__all__ = ["ERROR_KINDS", "OUTCOMES", "STAGES", "GatewayMetrics", "ReplicaHealth", "Snapshot", "scrape_refusal"]

Outcome = Literal["answered", "did_you_mean", "fallback", "handoff", "to_staff", "language_question"]
OUTCOMES: tuple[Outcome, ...] = ("answered", "did_you_mean", "fallback", "handoff", "to_staff", "language_question")
Stage = Literal["detection", "translation", "rasa", "database"]
STAGES: tuple[Stage, ...] = ("detection", "translation", "rasa", "database")
ErrorKind = Literal["rasa_unavailable", "translation_failed", "database", "internal"]
ERROR_KINDS: tuple[ErrorKind, ...] = ("rasa_unavailable", "translation_failed", "database", "internal")
PRIORITIES = {0: "acute", 1: "high", 2: "normal"}  # the queue priorities (PRIORITY_LABELS), in English
DID_YOU_MEAN = "utter_did_you_mean"  # actions/faq.py asks "Menade du …?" with this response
STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0)


@dataclass(frozen=True)
class ReplicaHealth:
    """One configured Rasa or action server as the last scrape found it."""

    kind: str  # "rasa" | "action_server"
    url: str
    up: bool
    model_id: str | None = None  # the model a Rasa replica has loaded


@dataclass(frozen=True)
class Snapshot:
    """What is true at scrape time: read from the database and the replicas just before the
    text is written (``gateway/routes/metrics.py``). Replaced whole, never changed."""

    database_up: bool = True
    # (status, priority) -> open tickets; every combination is reported, 0 included
    open_tickets: Mapping[tuple[str, int], int] = field(default_factory=dict)
    # priority -> seconds the longest-waiting unclaimed ticket has waited (0: none waiting)
    oldest_waiting_s: Mapping[int, float] = field(default_factory=dict)
    model_release: str | None = None  # the live model release's id
    model_id: str | None = None
    replicas: tuple[ReplicaHealth, ...] = ()


class GatewayMetrics:
    """The gateway's series and the hooks that count them (``turn``, ``stage``, ``error``,
    ``handoff``, ``escalation``); ``render`` writes the Prometheus text."""

    def __init__(
        self,
        *,
        languages: Iterable[str] = (),
        version: str = "",
        training_data: str = "",
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.languages = frozenset(languages)
        self.version = version
        self.training_data = training_data
        self.snapshot = Snapshot()
        r = self.registry
        self.turns = Counter("karlstad_turns", "Citizen turns by language, outcome and topic.",
                             ["language", "outcome", "topic"], registry=r)
        self.turn_seconds = Histogram("karlstad_turn_duration_seconds", "Time to handle one citizen turn.",
                                      ["outcome"], buckets=TURN_BUCKETS, registry=r)
        self.stage_seconds = Histogram("karlstad_stage_duration_seconds",
                                       "Time spent in one stage of a turn (one observation per call).",
                                       ["stage"], buckets=STAGE_BUCKETS, registry=r)
        self.handoffs = Counter("karlstad_handoffs", "Handoff tickets opened by turns, by reason.",
                                ["reason", "acute"], registry=r)
        self.escalations = Counter("karlstad_escalations", "Open tickets made acute by a danger sign.",
                                   ["reason"], registry=r)
        self.errors = Counter("karlstad_errors", "Errors by kind (turns that could not be answered "
                              "as asked, unexpected errors).", ["kind"], registry=r)
        for stage in STAGES:  # every series exists from the start, so rate() sees the first one
            self.stage_seconds.labels(stage)
        for kind in ERROR_KINDS:
            self.errors.labels(kind)
        self.registry.register(_SnapshotCollector(self))

    # -- hooks where turns are handled ---------------------------------------------------
    def turn(self, language: str, outcome: Outcome, topic: str, seconds: float) -> None:
        """One citizen turn done; ``topic`` already a label (:func:`topic_label`)."""
        self.turns.labels(self.language_label(language), outcome, topic).inc()
        self.turn_seconds.labels(outcome).observe(seconds)

    @contextmanager
    def stage(self, name: Stage) -> Iterator[None]:
        """Times the block as one call of stage ``name`` (also when it raises)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stage_seconds.labels(name).observe(time.perf_counter() - started)

    def observe(self, name: str, seconds: float) -> None:
        """One timed call of a stage (``translation_port.TimedTranslator`` reports here)."""
        if name in STAGES:
            self.stage_seconds.labels(name).observe(seconds)

    def error(self, kind: ErrorKind) -> None:
        self.errors.labels(kind).inc()

    def handoff(self, reason: str, acute: bool) -> None:
        self.handoffs.labels(reason_label(reason), "true" if acute else "false").inc()

    def escalation(self, reason: str) -> None:
        self.escalations.labels(reason_label(reason)).inc()

    def language_label(self, code: str) -> str:
        return code if code in self.languages else "other"

    # -- scrape ---------------------------------------------------------------------------
    def render(self, snapshot: Snapshot) -> bytes:
        """The Prometheus text with ``snapshot`` as the scrape-time figures."""
        self.snapshot = snapshot
        return generate_latest(self.registry)


def topic_label(topic: object, known: Collection[str]) -> str:
    """``topic`` (``faq/bygglov``) when the answering release has an answer for it, ``none``
    without a topic, else ``other``: a label never takes a value Rasa made up."""
    if not isinstance(topic, str) or not topic:
        return "none"
    return topic if f"utter_{topic}" in known else "other"


def reason_label(reason: str) -> str:
    return reason if reason in BY_CODE else "other"


def outcome_of(handoff_reason: str | None, response_ids: Iterable[str | None],
               nlu: Mapping[str, object], policy: Mapping[str, object] | None) -> Outcome:
    """The outcome a turn answered by the assistant had: a handoff wins, then the
    "did you mean" question, then a fallback; otherwise it was answered."""
    if handoff_reason:
        return "handoff"
    if DID_YOU_MEAN in response_ids:
        return "did_you_mean"
    if is_fallback({"nlu": nlu, "policy": policy}):
        return "fallback"
    return "answered"


def scrape_refusal(client_host: str | None, headers: Mapping[str, str], token: str) -> tuple[int, str] | None:
    """Why this request may not read /metrics, as (HTTP status, message); None when it may.

    With ``GATEWAY_METRICS_TOKEN`` set every scraper sends it as a bearer token. Without one,
    only a direct connection from this machine's loopback may scrape: a request that came
    through a proxy (``X-Forwarded-For`` or ``Forwarded``) is refused, because a load balancer
    on the same machine also connects from 127.0.0.1."""
    if token:
        sent = headers.get("authorization", "")
        if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return None
        return 401, "The metrics need the scrape token: send 'Authorization: Bearer <GATEWAY_METRICS_TOKEN>'."
    forwarded = "x-forwarded-for" in headers or "forwarded" in headers
    if not forwarded and _loopback(client_host):
        return None
    return 403, ("The metrics are served only to this machine's loopback address. Scrape the gateway "
                 "directly on 127.0.0.1, or set GATEWAY_METRICS_TOKEN and send it as a bearer token.")


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _SnapshotCollector:
    """The scrape-time series, from :attr:`GatewayMetrics.snapshot` (one read per scrape)."""

    def __init__(self, metrics: GatewayMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m, s = self.metrics, self.metrics.snapshot
        build = GaugeMetricFamily("karlstad_build_info", "The gateway's release and the training data "
                                  "of its content files.", labels=["version", "training_data"])
        build.add_metric([m.version, m.training_data], 1)
        yield build
        model = GaugeMetricFamily("karlstad_model_release_info", "The live model release and its model id.",
                                  labels=["release", "model_id"])
        if s.model_release is not None:
            model.add_metric([s.model_release, s.model_id or ""], 1)
        yield model
        yield GaugeMetricFamily("karlstad_database_up", "1 when the gateway could read its database "
                                "at this scrape.", value=1 if s.database_up else 0)
        tickets = GaugeMetricFamily("karlstad_queue_tickets", "Open handoff tickets by status and priority "
                                    "(the same on every gateway sharing the database).",
                                    labels=["status", "priority"])
        for (status, priority), count in sorted(s.open_tickets.items()):
            tickets.add_metric([status, PRIORITIES.get(priority, "other")], count)
        yield tickets
        oldest = GaugeMetricFamily("karlstad_queue_oldest_waiting_seconds", "How long the longest-waiting "
                                   "unclaimed ticket (status waiting) has waited, by priority; 0 when "
                                   "none waits.", labels=["priority"])
        for priority in PRIORITY_LABELS:
            oldest.add_metric([PRIORITIES[priority]], s.oldest_waiting_s.get(priority, 0.0))
        yield oldest
        up = GaugeMetricFamily("karlstad_replica_up", "1 when a configured Rasa or action server "
                               "answered its health check at this scrape.", labels=["kind", "url"])
        models = GaugeMetricFamily("karlstad_replica_model_info", "The model each Rasa replica has loaded.",
                                   labels=["url", "model_id"])
        for replica in s.replicas:
            up.add_metric([replica.kind, replica.url], 1 if replica.up else 0)
            if replica.model_id:
                models.add_metric([replica.url, replica.model_id], 1)
        yield up
        yield models
