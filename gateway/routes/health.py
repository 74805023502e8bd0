"""Liveness and readiness."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.deps import ServicesDep
from gateway.rasa_client import RasaUnavailableError

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready: the checks say which part is down.",
                                       "content": {"application/json": {"schema": {"type": "object"}}}}})
async def readyz(services: ServicesDep) -> JSONResponse:
    checks: dict[str, object] = {}
    ready = True
    try:
        status = await services.rasa.status()
        checks["rasa"] = {"ok": True, "model_id": status.get("model_id"), "replicas": status.get("replicas")}
    except RasaUnavailableError as exc:
        ready = False
        checks["rasa"] = {"ok": False, "error": str(exc)}
    try:
        import httpx

        async with httpx.AsyncClient(timeout=2.0) as client:
            response = await client.get(services.settings.action_server_url.rstrip("/") + "/health")
        checks["action_server"] = {"ok": response.status_code == 200}
        ready = ready and response.status_code == 200
    except httpx.HTTPError as exc:
        ready = False
        checks["action_server"] = {"ok": False, "error": type(exc).__name__}
    try:
        await services.store.run(services.store.ping)
        checks["database"] = {"ok": True, "dialect": services.store.dialect}
    except Exception as exc:  # noqa: BLE001 - reported, not swallowed
        ready = False
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
