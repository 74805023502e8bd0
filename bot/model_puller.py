"""Keeps this Rasa on the live model release, without a restart and without blocking turns.

The gateway owns the releases (gateway/releases.py) and serves the live one's model at
``KARLSTAD_MODEL_URL`` (``/internal/rasa/model``). Every ``KARLSTAD_MODEL_PULL_SECONDS``
this task asks for it, naming the model it has loaded; the gateway answers 304 while that
is still the live release. A new model is downloaded to a temporary file and loaded with
Rasa's own ``Agent.load_model`` in a worker thread: turns keep being answered by the old
model meanwhile and the next turn after the load uses the new one.

Why not Rasa's built-in ``models:`` endpoint: it loads the new model on the event loop,
and every turn waits for the whole load (about 20 s for our model on two busy cores), so
citizens' turns time out during a swap. The protocol (ETag, 304) is the same.
"""
from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from typing import Any, Optional

import aiohttp

logger = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT_S = 300


async def _pull_once(app: Any, url: str, token: str, etag: Optional[str]) -> Optional[str]:
    """One question to the gateway; loads a new model if there is one. Returns the ETag of
    the model now loaded (or the one given when nothing changed)."""
    agent = getattr(app.ctx, "agent", None)
    if agent is None:
        return etag
    headers = {"X-Loaded-Model-Id": agent.model_id or ""}
    if etag:
        headers["If-None-Match"] = etag
    path: Optional[str] = None
    try:
        timeout = aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(url, params={"token": token}, headers=headers) as resp:
                if resp.status == 304:
                    return resp.headers.get("ETag", etag)
                if resp.status != 200:
                    logger.debug("model pull: the gateway answered %s", resp.status)
                    return etag
                new_etag = resp.headers.get("ETag")
                handle, path = tempfile.mkstemp(prefix="karlstad-model-", suffix=".tar.gz")
                with os.fdopen(handle, "wb") as file:
                    async for chunk in resp.content.iter_chunked(1 << 20):
                        file.write(chunk)
        logger.info("model pull: loading release %s", new_etag)
        await asyncio.get_running_loop().run_in_executor(None, agent.load_model, path, new_etag)
        logger.info("model pull: release %s is loaded (model %s)", new_etag, agent.model_id)
        return new_etag
    except aiohttp.ClientError as exc:
        logger.debug("model pull: gateway not reachable (%s)", type(exc).__name__)
        return etag
    except Exception:  # noqa: BLE001 - a broken model must not stop the server
        logger.exception("model pull: could not load the new model; the previous model stays loaded")
        return etag
    finally:
        if path is not None:
            try:
                os.unlink(path)
            except OSError:
                pass


async def follow_live_model(app: Any, url: str, token: str, every_s: float) -> None:
    etag: Optional[str] = None
    while True:
        etag = await _pull_once(app, url, token, etag)
        await asyncio.sleep(every_s)


def install(blueprint: Any, token: str) -> None:
    """Starts the puller with the server when ``KARLSTAD_MODEL_URL`` is set."""
    url = os.environ.get("KARLSTAD_MODEL_URL", "").strip()
    if not url:
        return
    every = float(os.environ.get("KARLSTAD_MODEL_PULL_SECONDS", "2"))

    async def start(app: Any, _loop: Any) -> None:
        app.ctx.model_puller = asyncio.get_running_loop().create_task(
            follow_live_model(app, url, token, every))

    async def stop(app: Any, _loop: Any) -> None:
        task = getattr(app.ctx, "model_puller", None)
        if task is not None:
            task.cancel()

    blueprint.listener("after_server_start")(start)
    blueprint.listener("before_server_stop")(stop)
