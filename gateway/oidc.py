"""OpenID Connect, the protocol part of staff single sign-on: the authorization code flow with
PKCE (S256), a ``state`` and a ``nonce``, against the provider named by its issuer URL.

- The discovery document (``<issuer>/.well-known/openid-configuration``) is read from the
  issuer at each step of a login, so a provider that rotates its keys or moves an endpoint
  needs no restart; its ``issuer`` must be exactly the configured one.
- Authlib's httpx client (``AsyncOAuth2Client``) makes the authorization URL (with the code
  challenge) and exchanges the code (client secret by HTTP Basic, code verifier).
- The ID token is verified with joserfc against the provider's JWKS, with asymmetric
  algorithms only, and its claims with Authlib's ``CodeIDToken``: issuer, audience (our
  client id), expiry, issued-at, nonce, ``azp`` and ``at_hash``.
- Claims the ID token leaves out (providers that follow the spec strictly put e-mail and name
  only in the userinfo response) are read from the userinfo endpoint with the access token;
  its ``sub`` must be the ID token's.

What the claims *mean* for the gateway (which account, refusals) is ``gateway.staff_sso``.
Nothing here logs a token or a claim's value.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from gateway.settings import Settings

logger = logging.getLogger(__name__)

ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_S = 60


class OidcError(Exception):
    """The provider could not be used or what it sent is not acceptable. ``reason`` is a
    short code the console explains in Swedish (``unavailable`` or ``invalid``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class Started:
    """A login begun: where to send the browser, and what the callback must match."""

    url: str
    state: str
    nonce: str
    code_verifier: str


class OidcClient:
    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        self.settings = settings

    def _client(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self.settings.oidc_client_secret.get_secret_value(),
            scope=self.settings.oidc_scopes,
            redirect_uri=self.settings.effective_oidc_redirect_url,
            code_challenge_method="S256",
            timeout=self.settings.oidc_timeout_s,
            follow_redirects=False,
        )

    async def _get_json(self, client: AsyncOAuth2Client, url: str, what: str,
                        token: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            if token is None:
                response = await client.request("GET", url, withhold_token=True)
            else:
                response = await client.request("GET", url, headers={
                    "Authorization": f"Bearer {token['access_token']}"}, withhold_token=True)
        except Exception as exc:  # noqa: BLE001 - any transport failure means the same to staff
            logger.warning("oidc: %s could not be read: %s", what, type(exc).__name__)
            raise OidcError("unavailable", f"{what} could not be read ({type(exc).__name__})") from None
        if response.status_code != 200:
            logger.warning("oidc: %s answered %d", what, response.status_code)
            raise OidcError("unavailable", f"{what} answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise OidcError("invalid", f"{what} is not JSON") from None
        if not isinstance(body, dict):
            raise OidcError("invalid", f"{what} is not a JSON object")
        return body

    async def discover(self, client: AsyncOAuth2Client) -> dict[str, Any]:
        metadata = await self._get_json(client, f"{self.issuer}/.well-known/openid-configuration",
                                        "the discovery document")
        if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
            raise OidcError("invalid", "the discovery document names another issuer")
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(metadata.get(field), str):
                raise OidcError("invalid", f"the discovery document has no {field}")
        return metadata

    async def start(self) -> Started:
        """The provider's login page for a new login (reads the discovery document)."""
        async with self._client() as client:
            metadata = await self.discover(client)
            state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), generate_token(64)
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce)
        return Started(str(url), state, nonce, verifier)

    async def finish(self, code: str, nonce: str, code_verifier: str) -> dict[str, Any]:
        """Exchange ``code`` for tokens and return the verified ID token's claims."""
        async with self._client() as client:
            metadata = await self.discover(client)
            try:
                token = await client.fetch_token(metadata["token_endpoint"], code=code,
                                                 code_verifier=code_verifier)
            except Exception as exc:  # noqa: BLE001 - authlib raises its own and httpx's errors
                logger.warning("oidc: code exchange failed: %s", type(exc).__name__)
                raise OidcError("invalid", f"the code exchange failed ({type(exc).__name__})") from None
            id_token = token.get("id_token")
            if not isinstance(id_token, str):
                raise OidcError("invalid", "the token response has no id_token")
            jwks = await self._get_json(client, metadata["jwks_uri"], "the provider's keys")
            claims = self._verified(id_token, jwks, metadata, nonce, token.get("access_token"))
            wanted = self.settings.oidc_username_claim
            userinfo = metadata.get("userinfo_endpoint")
            if wanted not in claims and isinstance(userinfo, str) and token.get("access_token"):
                extra = await self._get_json(client, userinfo, "the userinfo response", token)
                if extra.get("sub") != claims.get("sub"):
                    raise OidcError("invalid", "the userinfo response is about another subject")
                claims = {**extra, **claims}
        return claims

    def _verified(self, id_token: str, jwks: dict[str, Any], metadata: dict[str, Any], nonce: str,
                  access_token: object) -> dict[str, Any]:
        offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in offered if a in ASYMMETRIC]
        try:
            decoded = jwt.decode(id_token, KeySet.import_key_set(jwks),  # type: ignore[arg-type]
                                 registry=JWSRegistry(algorithms=algorithms))
            claims = CodeIDToken(
                decoded.claims, decoded.header,
                {"iss": {"essential": True, "value": self.issuer},
                 "aud": {"essential": True, "value": self.client_id}},
                {"nonce": nonce, "client_id": self.client_id, "access_token": access_token},
            )
            claims.validate(leeway=LEEWAY_S)
        except (JoseError, ValueError) as exc:
            logger.warning("oidc: ID token refused: %s", type(exc).__name__)
            raise OidcError("invalid", f"the ID token was refused ({type(exc).__name__})") from None
        return dict(claims)
