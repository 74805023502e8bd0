"""Staff identity in real Chromium: a contact-centre worker presses "Logga in med kommunens
konto", fills in the login page of a real OpenID Connect provider (tests/oidc/, on
``localhost``: another site than the gateway's 127.0.0.1) and lands in the console; a person
without an account comes back to the login page with the Swedish reason; a publisher
enrols the TOTP second factor in the console before reaching the editors' workspace. The
browser reaches nothing but loopback (``--host-resolver-rules``); axe-core finds no
violations on the login page or the account page."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import select

from gateway.staff_accounts import create_user
from gateway.store import audit_events
from tests.conftest import ARTIFACTS
from tests.gateway.staff_helpers import PASSWORD, make_staff, settings_for
from tests.gateway.test_editor_console import axe_check
from tests.oidc.provider import RunningProvider, oidc_provider

pytestmark = [pytest.mark.browser]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Any, RunningProvider]]:
    import uvicorn

    from gateway.main import create_app
    from scripts.stack import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with oidc_provider([f"{url}/staff/sso/callback"]) as provider:
        settings = settings_for(tmp_path, port=port, **provider.settings(f"{url}/staff/sso/callback"))
        app = create_app(settings, rasa_transport=httpx.MockTransport(lambda r: httpx.Response(503)))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                               log_config=None, access_log=False))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            yield url, app.state.services, provider
        finally:
            server.should_exit = True
            thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from tests.widget.conftest import _chromium

    binary, chromedriver = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
                "--window-size=1280,1000", "--lang=sv-SE", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def wait(check: Callable[[], Any], timeout_s: float = 20, what: str = "") -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception:  # noqa: BLE001 - the element is not there yet
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or check}")


def by_id(driver: Any, element_id: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id)


def sso_login(driver: Any, url: str, login: str, password: str) -> None:
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.get(url + "/staff")
    wait(lambda: by_id(driver, "sso-login").is_displayed(), what="the single sign-on button")
    by_id(driver, "sso-login").click()
    wait(lambda: by_id(driver, "login").is_displayed(), what="the provider's login page")
    assert driver.current_url.startswith("http://localhost:")
    by_id(driver, "login").send_keys(login)
    by_id(driver, "password").send_keys(password)
    by_id(driver, "sign-in").click()
    wait(lambda: driver.current_url.startswith(url + "/staff"), what="the way back to the console")


def test_staff_member_logs_in_through_the_municipal_account(served: tuple[str, Any, RunningProvider],
                                                            browser: Any) -> None:
    url, services, provider = served
    make_staff(services.store, "anna", "Anna på Kontaktcenter", "staff")
    browser.get(url + "/staff")
    wait(lambda: by_id(browser, "sso-login").is_displayed(), what="the single sign-on button")
    assert by_id(browser, "sso-login").text == "Logga in med kommunens konto"
    axe_check(browser, "login page with single sign-on")

    sso_login(browser, url, "anna", provider.password)
    wait(lambda: by_id(browser, "console-view").is_displayed(), what="the console")
    assert by_id(browser, "who-name").text == "Anna på Kontaktcenter"
    assert browser.current_url == url + "/staff"
    wait(lambda: "Live" in by_id(browser, "live-state").text, what="the live queue")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "console-sso-logged-in.png"))
    with services.store.connect() as conn:
        logins = conn.execute(select(audit_events.c.actor, audit_events.c.detail)
                              .where(audit_events.c.action == "staff.login")).all()
    assert [(r.actor, r.detail["method"]) for r in logins] == [("anna", "oidc")]

    sso_login(browser, url, "okand", provider.password)
    message = wait(lambda: by_id(browser, "login-error").text, what="the refusal")
    assert "inget konto i chattens personalgränssnitt" in message
    assert by_id(browser, "login-view").is_displayed() and not by_id(browser, "console-view").is_displayed()
    assert browser.current_url == url + "/staff"


def test_publisher_enrols_the_second_factor_in_the_console(served: tuple[str, Any, RunningProvider],
                                                           browser: Any) -> None:
    url, services, _ = served
    create_user(services.store, "per", "Per Publicerare", "publisher", PASSWORD)
    browser.get(url + "/staff")
    wait(lambda: by_id(browser, "username").is_displayed(), what="the login form")
    by_id(browser, "username").send_keys("per")
    by_id(browser, "password").send_keys(PASSWORD)
    by_id(browser, "password").submit()
    wait(lambda: by_id(browser, "account-view").is_displayed(), what="the account page")
    assert "kräver tvåstegsverifiering" in by_id(browser, "account-notice").text
    assert not by_id(browser, "account-close").is_displayed()
    by_id(browser, "totp-begin").click()
    secret = wait(lambda: by_id(browser, "totp-secret").text, what="the secret")
    assert by_id(browser, "totp-uri").get_attribute("href").startswith("otpauth://totp/")
    axe_check(browser, "account page, enrolment")
    browser.save_screenshot(str(ARTIFACTS / "console-totp-enrolment.png"))
    by_id(browser, "totp-code").send_keys(pyotp.TOTP(secret).now())
    by_id(browser, "totp-code").submit()
    wait(lambda: "aktiverad" in by_id(browser, "account-status").text, what="the confirmation")
    by_id(browser, "account-close").click()
    wait(lambda: by_id(browser, "editor-view").is_displayed(), what="the editors' workspace")

    # Next time the password login asks for the code.
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    browser.get(url + "/staff")
    wait(lambda: by_id(browser, "username").is_displayed(), what="the login form")
    by_id(browser, "username").send_keys("per")
    by_id(browser, "password").send_keys(PASSWORD)
    by_id(browser, "password").submit()
    wait(lambda: by_id(browser, "code").is_displayed(), what="the code field")
    generator = pyotp.TOTP(secret)
    by_id(browser, "code").send_keys(generator.at(time.time() + 30))  # the next step: not used yet
    by_id(browser, "code").submit()
    wait(lambda: by_id(browser, "editor-view").is_displayed(), what="the editors' workspace")
