"""The gateway application: ``create_app(settings)``; parts are built in the lifespan."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from gateway import __version__, errors, logconfig, pubsub, retention
from gateway.auth import new_id
from gateway.basis import Release
from gateway.catalogue import Catalogue
from gateway.coordination import coordination
from gateway.editor import content
from gateway.editor.jobs import JobRunner
from gateway.editor.registry import ReleaseRegistryPort
from gateway.editor.workspace import EditorWorkspace
from gateway.handoff import HandoffQueue, OpeningHours
from gateway.metrics import GatewayMetrics
from gateway.metrics_scrape import ScrapeReader, replicas
from gateway.middleware import HeaderPolicy, RequestLimits, SecurityHeaders
from gateway.openapi import OpenAPIDocument
from gateway.proxies import ForwardedClient, parse_networks
from gateway.rasa_replicas import RasaReplicas
from gateway.releases import ReleaseRegistry
from gateway.routes import (
    about,
    account,
    chat,
    editor,
    events,
    health,
    metrics,
    models,
    sso,
    staff,
    transparency,
)
from gateway.safety import SafetyLexicon
from gateway.services import Services
from gateway.settings import ROOT, Settings
from gateway.shared_limits import ConversationLimits
from gateway.store import Store
from gateway.texts import NATIVE
from gateway.translation_port import TimedTranslator, TranslationPort
from gateway.turn import TurnService

logger = logging.getLogger(__name__)

def code_version() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=2
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = ""
    return f"{__version__}+{rev}" if rev else __version__


def default_translator(settings: Settings) -> TranslationPort:
    from translation.service import TranslationService

    service: TranslationPort = TranslationService.from_config(
        settings.models_dir, settings.translation_registry
    )
    return service


class GatewayApp(FastAPI):
    """FastAPI with the security headers outside everything, Starlette's last-resort error
    handler (our 503 for unexpected errors) included."""

    header_policy: HeaderPolicy = HeaderPolicy()

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), self.header_policy)


def create_app(
    settings: Settings | None = None,
    *,
    translator_factory: Callable[[Settings], TranslationPort] | None = None,
    rasa_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """Everything the gateway runs, built in order and stopped in reverse."""
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        store = Store(settings.effective_database_url)
        store.create_all()
        broker = pubsub.create_broker(settings.redis_url, settings.effective_database_url)
        await broker.start()
        # Conversation locks and rate limits: in this process, or shared through Redis.
        shared = coordination(settings)
        catalogue = Catalogue.load(settings.nlu_data_dir, settings.domain_dir)
        translator = (translator_factory or default_translator)(settings)
        translator.detect("Hej, hur ansöker jag om förskola?")  # load the detector's word lists now
        warm_up = getattr(translator, "warm_up", None)
        if warm_up is not None:  # and langdetect's profiles, which that Swedish sentence does not need
            warm_up()
        release = Release(version=settings.release or code_version(), data_hash=catalogue.data_hash)
        # The model trained from the content on disk is the live release; Rasa pulls it.
        releases = ReleaseRegistry(store)
        # Its commit lets a later rollback to it restore the content files as well.
        head = await asyncio.to_thread(content.head, settings.content_root) if settings.model_file else None
        await store.run(releases.bootstrap, settings.model_file, catalogue.data_hash, head)
        rasa = RasaReplicas(
            settings.effective_rasa_urls,
            settings.rasa_token.get_secret_value(),
            settings.rasa_timeout_s,
            retry_after_s=settings.rasa_retry_after_s,
            transport=rasa_transport,
        )
        handoff = HandoffQueue(OpeningHours.parse(settings.opening_hours, settings.timezone))
        # Prometheus metrics: this app's own registry; the turn's translator is timed for it.
        gateway_metrics = GatewayMetrics(languages=[*NATIVE, *(str(i.code) for i in translator.languages())],
                                          version=release.version, training_data=release.data_hash)
        scrape = ScrapeReader(store, releases, replicas(settings.effective_rasa_urls, [settings.action_server_url]),
                              settings.rasa_token.get_secret_value(), transport=rasa_transport)
        turns = TurnService(
            store=store,
            rasa=rasa,
            catalogue=catalogue,
            translator=TimedTranslator(translator, gateway_metrics.observe,
                                       lambda: gateway_metrics.error("translation_failed")),
            handoff=handoff,
            releases=releases,
            safety=SafetyLexicon(),
            release=release,
            publish=pubsub.turn_publisher(broker),  # consoles and citizen streams hear of turns
            metrics=gateway_metrics,
        )
        services = Services(
            settings=settings,
            store=store,
            rasa=rasa,
            catalogue=catalogue,
            translator=translator,
            handoff=handoff,
            turns=turns,
            release=release,
            broker=broker,
            releases=releases,
            metrics=gateway_metrics,
            scrape=scrape,
            locks=shared.locks,
            message_limiter=shared.limiters("message", settings.rate_limit_per_minute, 60.0),
            create_limiter=shared.limiters("create", settings.create_rate_limit_per_minute, 60.0),
            conversation_limits=ConversationLimits(limiters=shared.limiters),
            login_throttle=shared.login_throttle,
        )
        app.state.services = services
        pretranslation = _start_pretranslation(translator, catalogue)
        services.retention_task = asyncio.create_task(
            retention.run_daily(store, settings.retention_days, settings.timezone,
                                tracker=retention.tracker_url(settings)),
            name=f"retention-{new_id()[:8]}",
        )
        services.editor = _start_editor(services)
        services.release_task = asyncio.create_task(releases.follow(), name=f"releases-{new_id()[:8]}")
        logger.info(
            "gateway ready: db=%s release=%s responses=%d rasa_replicas=%d shared_state=%s",
            store.dialect, release.version, len(catalogue.answers), len(rasa.replicas),
            "redis" if shared.shared else "process",
        )
        try:
            yield
        finally:
            if services.editor is not None:
                await services.editor.runner.stop()
            services.retention_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await services.retention_task
            services.retention_task = None
            services.release_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await services.release_task
            await broker.close()
            await scrape.close()
            await shared.close()
            await rasa.close()
            store.dispose()
            if pretranslation is not None:
                pretranslation.join(timeout=1)

    production = settings.environment == "production"
    app = GatewayApp(
        title="Karlstad citizen assistant gateway",
        version=__version__,
        lifespan=lifespan,
        docs_url=None if production else "/api/docs",  # Swagger UI comes from a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.header_policy = HeaderPolicy.build(settings.frame_ancestors, settings.allowed_origins)
    errors.install(app)
    # Outermost first: CORS (so the widget can read a 413/408), then the request limits.
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes,
                       body_timeout_s=settings.body_timeout_s)
    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    if settings.trusted_proxies:  # outermost: every part sees the citizen behind our proxies
        app.add_middleware(ForwardedClient, trusted=parse_networks(settings.trusted_proxies))
    app.include_router(health.router)
    app.include_router(chat.router)
    app.include_router(transparency.router)
    app.include_router(staff.router)
    app.include_router(account.router)
    app.include_router(sso.router)
    app.include_router(editor.router)
    app.include_router(about.router)
    app.include_router(events.router)
    app.include_router(models.router)
    app.include_router(metrics.router)

    widget_dir = Path(settings.widget_dir)
    if widget_dir.exists():
        app.mount("/widget", StaticFiles(directory=widget_dir), name="widget")

        @app.get("/", include_in_schema=False)
        async def demo() -> Response:
            demo_page = widget_dir / "demo.html"
            if demo_page.exists():
                return FileResponse(demo_page)
            return RedirectResponse("/api/docs")

    OpenAPIDocument(app, public_only=production).install()
    return app


def _start_editor(services: Services) -> EditorWorkspace:
    """The editors' workspace and its job runner (one job at a time, state in the database)."""
    registry: ReleaseRegistryPort = services.releases  # gateway/releases.py

    async def live_model() -> Path | None:
        current = await registry.current()
        if current is not None:
            return Path(current.model_file)
        fallback = ROOT / "var" / "models" / "current.tar.gz"
        return fallback.resolve() if fallback.exists() else None

    runner = JobRunner(services.store, services.settings, live_model)
    runner.start()
    return EditorWorkspace(services.store, services.settings, runner, registry, locks=services.locks)


def _start_pretranslation(translator: TranslationPort, catalogue: Catalogue) -> threading.Thread | None:
    """Translate the fixed answers into every language whose models are installed, in the
    background, so answering costs no translation at run time."""
    languages = [
        info.code
        for info in translator.languages()
        if info.available and info.code not in NATIVE
    ]
    pretranslate = getattr(translator, "pretranslate", None)
    if not languages or pretranslate is None:
        return None

    def work() -> None:
        accepted = pretranslate(catalogue.swedish_texts(), languages)
        logger.info("pre-translated %d fixed answers into %s", accepted, ",".join(languages))

    thread = threading.Thread(target=work, name="pretranslate", daemon=True)
    thread.start()
    return thread


def run() -> None:
    """Entrypoint: ``python -m gateway``."""
    import uvicorn

    # Exceptions are logged as types and places only: their messages can carry citizens' text.
    logconfig.configure(os.environ.get("GATEWAY_LOG_LEVEL", "INFO"))
    settings = Settings()
    uvicorn.run(create_app(settings), **server_options(settings))


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for ``run`` (and for tests that serve the app the same way)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": "warning",
        "log_config": None,  # uvicorn's records go to the handler gateway.logconfig installed
        "access_log": False,
        "proxy_headers": False,  # X-Forwarded-For is read by gateway.proxies, from trusted proxies only
        "timeout_graceful_shutdown": 3,  # open event streams (SSE) must not hold up a restart
        "server_header": False,  # no "server: uvicorn"
        "http": "h11",
        "h11_max_incomplete_event_size": 16 * 1024,  # request line + headers
        "timeout_keep_alive": settings.keep_alive_s,
    }
