"""Staff single sign-on routes (``gateway.staff_sso``): ``/staff/sso/login`` sends the browser
to the municipality's provider, ``/staff/sso/callback`` takes it back, opens the session and
returns to the console. A refusal goes back to the console as ``/staff?sso=<code>``, whose
Swedish message the console reads from ``/staff/api/login-options``."""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from gateway import staff_sessions, staff_sso
from gateway.deps import ServicesDep
from gateway.oidc import OidcClient
from gateway.routes.staff import secure_cookies
from gateway.schemas import error_responses
from gateway.staff_schemas import LoginOptionsOut
from gateway.staff_sso import SSO_COOKIE, SsoRefusedError

logger = logging.getLogger(__name__)

router = APIRouter()
LOGIN_PATH = "/staff/sso/login"
CALLBACK_PATH = "/staff/sso/callback"


def _back_to_console(reason: str | None = None) -> RedirectResponse:
    url = "/staff" + (f"?{urlencode({'sso': reason})}" if reason else "")
    response = RedirectResponse(url, status_code=303)
    response.delete_cookie(SSO_COOKIE, path="/staff/sso", httponly=True, samesite="lax")
    return response


@router.get("/staff/api/login-options", responses=error_responses())
async def login_options(services: ServicesDep) -> LoginOptionsOut:
    """How staff may log in here (the console's login page asks before it shows its form)."""
    settings = services.settings
    return LoginOptionsOut(password=settings.staff_password_login, sso=settings.sso_enabled,
                           sso_label=settings.oidc_button_label, sso_url=LOGIN_PATH,
                           sso_messages=staff_sso.MESSAGES)


@router.get(LOGIN_PATH, include_in_schema=False)
async def sso_login(services: ServicesDep) -> RedirectResponse:
    if not services.settings.sso_enabled:
        return _back_to_console("off")
    try:
        started = await staff_sso.begin(services.store, OidcClient(services.settings))
    except SsoRefusedError as exc:
        return _back_to_console(exc.reason)
    response = RedirectResponse(started.url, status_code=303)
    # Lax, not Strict: the provider sends the browser back with a cross-site navigation.
    response.set_cookie(SSO_COOKIE, started.state, max_age=int(staff_sso.PENDING_TTL.total_seconds()),
                        httponly=True, samesite="lax", secure=secure_cookies(services.settings),
                        path="/staff/sso")
    return response


@router.get(CALLBACK_PATH, include_in_schema=False)
async def sso_callback(request: Request, services: ServicesDep) -> RedirectResponse:
    if not services.settings.sso_enabled:
        return _back_to_console("off")
    params = request.query_params
    if params.get("error"):
        # e.g. access_denied: the person cancelled at the provider.
        logger.info("sso: the provider returned error=%s", params.get("error", "")[:64])
        return _back_to_console("cancelled" if params.get("error") == "access_denied" else "invalid")
    try:
        session = await staff_sso.complete(
            services.store, OidcClient(services.settings), services.settings,
            state=params.get("state", ""), cookie_state=request.cookies.get(SSO_COOKIE),
            code=params.get("code", ""))
    except SsoRefusedError as exc:
        return _back_to_console(exc.reason)
    response = _back_to_console()
    staff_sessions.set_cookie(response, session, secure_cookies(services.settings))
    return response
