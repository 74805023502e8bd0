"""Browser fixtures for the widget: headless Chromium through Selenium, axe-core from npm.

- ``axe_source``: axe-core's script; ``npm ci`` runs here when node_modules is missing.
- ``driver``: one headless Chromium per module (fresh profile), 1280×900.
- ``gateway_url``: the live stack's gateway (or ``WIDGET_GATEWAY_URL`` to point the tests at
  a gateway that is already running, e.g. ``make run``).
- ``chat``: a :class:`Chat` on a freshly loaded demo page with an empty sessionStorage.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.widget.browser import Chat

HERE = Path(__file__).resolve().parent

def _chromium() -> tuple[str, str]:
    binary = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or "/usr/bin/chromium"
    driver = os.environ.get("CHROMEDRIVER_BIN") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (Path(binary).exists() and Path(driver).exists()):
        pytest.fail(
            "The widget tests need Chromium and chromedriver: `apt-get install chromium chromium-driver` "
            f"(looked for {binary} and {driver}; set CHROMIUM_BIN / CHROMEDRIVER_BIN to override)."
        )
    return binary, driver


@pytest.fixture(scope="session")
def axe_source() -> str:
    script = HERE / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(
                "axe-core is missing and npm was not found: "
                "install Node.js and npm, then run `npm ci` in tests/widget."
            )
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, text=True, timeout=300
        )
        if result.returncode != 0 or not script.exists():
            pytest.fail(f"`npm ci` in tests/widget failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return script.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def gateway_url(request: pytest.FixtureRequest) -> str:
    override = os.environ.get("WIDGET_GATEWAY_URL")
    if override:
        return override.rstrip("/")
    return str(request.getfixturevalue("live_stack").gateway_url)


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, chromedriver = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-dev-shm-usage", "--window-size=1280,900",
        "--lang=sv-SE", f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    # Headless Chromium ignores --lang for navigator.languages; the preference sets what a
    # Swedish browser sends (the widget starts in the browser's language).
    options.add_experimental_option("prefs", {"intl.accept_languages": "sv-SE,sv"})
    browser = webdriver.Chrome(service=Service(chromedriver), options=options)
    browser.set_script_timeout(30)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def chat(driver: Any, gateway_url: str, axe_source: str) -> Iterator[Chat]:
    page = Chat(driver, gateway_url, axe_source)
    page.viewport(None)
    page.media()
    page.load()
    yield page
    page.viewport(None)
    page.media()
