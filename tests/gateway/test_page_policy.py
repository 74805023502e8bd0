"""The demo page and the widget work under the Content-Security-Policy the gateway sends:
a real headless Chromium loads the page from the gateway as uvicorn serves it, opens the
widget, asks a question and gets an answer, and the browser reports no CSP violation."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.served_app import production_server
from tests.gateway.staff_helpers import settings_for

pytestmark = pytest.mark.browser

# Registered before any of the page's scripts run; collects what the browser refused.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '')));
"""


def _browser(profile: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from tests.widget.conftest import _chromium

    binary, chromedriver = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-dev-shm-usage", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})
    return driver


def _until(driver: Any, script: str, what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    violations = driver.execute_script("return window.__csp")
    raise AssertionError(f"timed out waiting for {what}; CSP violations: {violations}")


def _conversation_in_the_browser(driver: Any, url: str) -> tuple[str, list[str], str]:
    driver.get(url + "/")
    root = "const R = document.getElementById('karlstad-chat') && document.getElementById('karlstad-chat').shadowRoot;"
    _until(driver, root + "return R && R.querySelector('.kc-launcher')", "the widget's launcher")
    driver.execute_script(root + "R.querySelector('.kc-launcher').click()")
    _until(driver, root + "return R.querySelector('textarea')", "the text field")
    field = driver.execute_script(root + "return R.querySelector('textarea')")
    field.send_keys("Behöver jag bygglov?")
    field.send_keys("\n")
    answer = _until(driver, root + "return [...R.querySelectorAll('.kc-text')].map(e => e.textContent)"
                    ".find(t => t.includes('Svar från gateway-testet'))", "the answer")
    styled = driver.execute_script(root + "return getComputedStyle(R.querySelector('.kc-launcher')).position")
    return str(answer), list(driver.execute_script("return window.__csp")), str(styled)


async def test_the_widget_works_under_the_pages_content_security_policy(tmp_path: Path) -> None:
    import httpx

    from tests.conftest import rasa_reply

    def rasa(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"ready": True, "model_id": "m", "model_file": None})
        return httpx.Response(200, json=rasa_reply("Svar från gateway-testet."))

    async with production_server(settings_for(tmp_path), rasa) as served:
        driver = await asyncio.to_thread(_browser, tmp_path / "profile")
        try:
            def run() -> tuple[str, list[str], str]:
                return _conversation_in_the_browser(driver, served.url)

            answer, violations, position = await asyncio.to_thread(run)
        finally:
            await asyncio.to_thread(driver.quit)
    assert "Svar från gateway-testet" in answer
    assert position == "fixed"  # the widget's stylesheet was applied
    assert violations == []
