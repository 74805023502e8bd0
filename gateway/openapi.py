"""The OpenAPI document as the running gateway answers, not as FastAPI guesses.

FastAPI describes every validation failure as its own ``HTTPValidationError`` and knows
nothing of what happens below the routes. ``OpenAPIDocument`` corrects that when the
document is built:

- every error response (documented on the routes with ``schemas.error_responses``, and
  FastAPI's 422) carries the gateway's one error body, ``ErrorBody``;
- every operation documents what the layers around the routes answer: 408 and 413 for a
  body that is too slow or too large (``middleware.RequestLimits``, operations with a body)
  and 503 for an unexpected error (``errors.install``);
- language codes are the languages the running gateway offers (an ``enum`` from the
  translation registry), not every two or three letters;
- in production the staff API is left out (its console is the only client).
"""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from gateway.jsontypes import obj
from gateway.schemas import ERROR_DESCRIPTIONS, LANGUAGE_PATTERN, ErrorBody

ERROR_REF = "#/components/schemas/ErrorBody"
METHODS = ("get", "post", "put", "patch", "delete")
STAFF_PREFIX = "/staff"


class OpenAPIDocument:
    def __init__(self, app: FastAPI, public_only: bool) -> None:
        self.app = app
        self.public_only = public_only

    def install(self) -> None:
        self.app.openapi = self.build  # type: ignore[method-assign]

    def build(self) -> dict[str, object]:
        if self.app.openapi_schema is not None:
            return self.app.openapi_schema
        spec = get_openapi(title=self.app.title, version=self.app.version, routes=self.app.routes)
        if self.public_only:
            spec["paths"] = {p: ops for p, ops in spec["paths"].items() if not p.startswith(STAFF_PREFIX)}
        components = spec.setdefault("components", {}).setdefault("schemas", {})
        _, defs = models_json_schema([(ErrorBody, "validation")], ref_template="#/components/schemas/{model}")
        components.update(defs.get("$defs", {}))
        for path_item in spec["paths"].values():
            for method in METHODS:
                if method in path_item:
                    self._operation(path_item[method])
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        codes = self._language_codes()
        if codes:
            _restrict_languages(spec, codes)
            self.app.openapi_schema = spec  # complete: keep it
        return spec

    @staticmethod
    def _operation(operation: dict[str, object]) -> dict[str, object]:
        responses = operation.setdefault("responses", {})
        if not isinstance(responses, dict):
            return operation
        wanted = ["503"]
        if "requestBody" in operation:
            wanted += ["400", "408", "413"]  # 400: a body that is not UTF-8 text
        if operation.get("parameters") or "requestBody" in operation:
            wanted.append("422")
        for code in wanted:
            responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[int(code)]})
        for code, response in responses.items():
            if isinstance(response, dict) and str(code).isdigit() and int(code) >= 400:
                response["description"] = response.get("description") or ERROR_DESCRIPTIONS.get(int(code), "Error")
                content = obj(response.get("content"))
                # FastAPI gives an error model the route's media type (an event stream, a
                # file); errors are always JSON.
                refers = any(obj(obj(c).get("schema")).get("$ref") == ERROR_REF for c in content.values())
                if code == "422" or not content or refers:
                    response["content"] = {"application/json": {"schema": {"$ref": ERROR_REF}}}
        return operation

    def _language_codes(self) -> list[str]:
        services = getattr(self.app.state, "services", None)
        if services is None:
            return []
        return [str(info.code) for info in services.translator.languages()]


def _restrict_languages(node: object, codes: list[str]) -> None:
    """Every string constrained by the language-code pattern becomes an enum of ``codes``."""
    if isinstance(node, dict):
        if node.get("pattern") == LANGUAGE_PATTERN:
            del node["pattern"]
            node.pop("minLength", None)
            node.pop("maxLength", None)
            node["enum"] = list(codes)
        for value in node.values():
            _restrict_languages(value, codes)
    elif isinstance(node, list):
        for value in node:
            _restrict_languages(value, codes)
