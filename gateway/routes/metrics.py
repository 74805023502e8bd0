"""``GET /metrics``: the gateway's Prometheus metrics (``gateway/metrics.py``; every series
in docs/metrics.md). Loopback only unless ``GATEWAY_METRICS_TOKEN`` is set
(``metrics.scrape_refusal``); not part of the public API document."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from gateway.deps import ServicesDep
from gateway.errors import ForbiddenError, UnauthorisedError
from gateway.metrics import scrape_refusal

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, services: ServicesDep) -> Response:
    refusal = scrape_refusal(request.client.host if request.client else None, request.headers,
                             services.settings.metrics_token.get_secret_value())
    if refusal is not None:
        status, message = refusal
        raise UnauthorisedError(message) if status == 401 else ForbiddenError(message)
    snapshot = await services.scrape.read()
    # the classic text format (0.0.4), which every Prometheus version reads
    return Response(services.metrics.render(snapshot), media_type=CONTENT_TYPE_PLAIN_0_0_4,
                    headers={"Cache-Control": "no-store"})
