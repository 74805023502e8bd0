"""The live release's model for Rasa (``GET /internal/rasa/model``): Rasa's model server.

Every Rasa asks here every few seconds (bot/model_puller.py, started by scripts/stack.py)
with the ETag and model id of the model it holds; the answer is 304 while that is still the
live release, else the live release's archive with a new ETag, which Rasa loads in place of
the old one without a restart (gateway/releases.py). Loopback only, with Rasa's token
(sent as the ``token`` query parameter, as Rasa's endpoint configuration does).
"""
from __future__ import annotations

import hmac
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from gateway.deps import ServicesDep

router = APIRouter()


@router.get("/internal/rasa/model", include_in_schema=False)
async def live_model(request: Request, services: ServicesDep) -> Response:
    token = request.query_params.get("token", "")
    expected = services.settings.rasa_token.get_secret_value()
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        return JSONResponse({"error": "this endpoint is for Rasa: give Rasa's token as ?token="}, status_code=401)
    release = await services.releases.current()
    if release is None:
        return JSONResponse({"error": "no release is live yet"}, status_code=404)
    loaded = request.headers.get("x-loaded-model-id")
    if request.headers.get("if-none-match") == release.etag or (loaded and loaded == release.model_id):
        return Response(status_code=304, headers={"ETag": release.etag})
    path = Path(release.model_file)
    if not path.is_file():
        return JSONResponse({"error": f"release {release.id}'s model file is missing"}, status_code=404)
    return FileResponse(path, media_type="application/gzip",
                        headers={"ETag": release.etag, "filename": f"model-r{release.id}-{release.data_hash}.tar.gz"})
