"""The editors' workspace in real Chromium against a served gateway (Rasa a stand-in that
misses on purpose, fake train and gate, a temporary content clone, a fake release registry):
an editor finds a missed question in the inbox with the keyboard-reachable table, assigns it,
submits; a publisher (another person) publishes; the release appears. axe-core finds no
violations in the workspace."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ARTIFACTS
from tests.gateway.editor_helpers import FakeRegistry, fakes, missing_rasa
from tests.gateway.staff_helpers import PASSWORD, make_staff, settings_for, totp_code

pytestmark = [pytest.mark.browser]
AXE = Path(__file__).resolve().parents[1] / "widget" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    import socket

    import uvicorn

    from gateway.main import create_app

    fake = fakes(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = settings_for(tmp_path, port=port, **fake.settings())
    app = create_app(settings, rasa_transport=httpx.MockTransport(missing_rasa))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    services = app.state.services
    services.editor.registry = FakeRegistry()
    make_staff(services.store, "eva", "Eva Redaktör", "editor")
    make_staff(services.store, "per", "Per Publicerare", "publisher")
    try:
        yield f"http://127.0.0.1:{port}", services
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
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or check}")


def login(driver: Any, url: str, username: str, store: Any = None) -> None:
    """Log in with the form; a publisher (second factor enrolled by make_staff) types the code
    from ``store``'s secret when the console asks for it."""
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(url + "/staff")
    wait(lambda: driver.find_element(By.ID, "login-view").is_displayed(), what="login form")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
    if store is not None:
        wait(lambda: driver.find_element(By.ID, "code").is_displayed(), what="the code field")
        driver.find_element(By.ID, "code").send_keys(totp_code(store, username))
        driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
    wait(lambda: driver.find_element(By.ID, "editor-view").is_displayed(), what="editor view")


def click_in_first_row(driver: Any, rows: str, button: str, timeout_s: float = 20) -> None:
    """Click ``button`` in the first of ``rows``; the table may still be re-rendered (a filter
    applied) between finding the row and clicking, so a stale row is looked up again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            driver.find_elements(By.CSS_SELECTOR, rows)[0].find_element(By.XPATH, button).click()
            return
        except (StaleElementReferenceException, IndexError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def axe_check(driver: Any, state: str) -> None:
    if not AXE.exists():
        pytest.fail(f"axe-core is missing ({AXE}): run `npm ci` in tests/widget.")
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(JSON.stringify(r.violations)),"
        " e => done(JSON.stringify([{id: 'axe-error', help: String(e), nodes: []}])));")
    violations = json.loads(result)
    assert not violations, f"axe-core violations in '{state}': " + "; ".join(
        f"{v['id']}: {v.get('help')} {[n.get('target') for n in v.get('nodes', [])[:3]]}" for v in violations)


def test_editor_assigns_submits_and_a_publisher_publishes(served: tuple[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    url, services = served
    with httpx.Client(base_url=url) as citizen:
        created = citizen.post("/api/conversations").json()
        auth = {"Authorization": f"Bearer {created['token']}"}
        sent = citizen.post(f"/api/conversations/{created['conversation_id']}/messages", headers=auth,
                            json={"text": "var lånar man grejer utan att köpa dem, ring 070-123 45 67"})
        assert sent.status_code == 200, sent.text

    driver = browser
    login(driver, url, "eva")
    rows = wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#inbox-rows tr"), what="inbox rows")
    assert "[telefon]" in rows[0].text and "070" not in rows[0].text
    assert not driver.find_element(By.ID, "views").is_displayed()  # an editor sees no queue tab
    axe_check(driver, "inbox")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "editor-inbox.png"))

    # Quality: the miss counted under the fallback intent; its button leads back to the inbox.
    driver.find_element(By.ID, "etab-quality").click()
    quality = wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#quality-rows tr"), what="quality rows")
    assert quality[0].text.startswith("nlu_fallback") and "100 %" in quality[0].text
    axe_check(driver, "quality")
    quality[0].find_element(By.TAG_NAME, "button").click()
    wait(lambda: driver.find_element(By.ID, "etab-inbox").get_attribute("aria-selected") == "true", what="inbox tab")
    click_in_first_row(driver, "#inbox-rows tr", ".//button[starts-with(., 'Lägg till')]")
    text = driver.find_element(By.ID, "assign-text")
    assert driver.switch_to.active_element == text
    text.clear()
    text.send_keys("var lånar man saker utan att köpa dem, ring 070-123 45 67")
    Select(driver.find_element(By.ID, "assign-topic")).select_by_value("faq/bibliotek")
    driver.find_element(By.CSS_SELECTOR, "#assign-form button[type=submit]").click()
    error = wait(lambda: driver.find_element(By.ID, "editor-error").text, what="PII refusal")
    assert "personuppgifter" in error
    text.clear()
    text.send_keys("var lånar man saker utan att köpa dem")
    driver.find_element(By.CSS_SELECTOR, "#assign-form button[type=submit]").click()
    wait(lambda: driver.find_element(By.ID, "inbox-empty").is_displayed(), what="empty inbox")

    tab = driver.find_element(By.ID, "etab-inbox")
    tab.send_keys(Keys.ARROW_RIGHT)  # keyboard: to the change sets
    assert driver.switch_to.active_element.get_attribute("id") == "etab-changes"
    wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#change-rows tr button"), what="change rows")[0].click()
    wait(lambda: driver.find_element(By.ID, "change-submit").is_displayed(), what="submit button")
    driver.find_element(By.ID, "change-submit").click()
    wait(lambda: "Klar att publicera" in driver.find_element(By.ID, "change-title").text, 60, "ready")
    assert not driver.find_element(By.ID, "change-publish").is_displayed()  # not the author's to publish
    assert "+    - var lånar man saker utan att köpa dem" in driver.find_element(By.ID, "change-diff").text
    # The gate's figures as a table the reviewer can read, the numbers in Swedish notation.
    # Read in one script: the view may re-render once more (its last poll) while it is read.
    rows = dict(driver.execute_script(
        "return [...document.querySelectorAll('#change-figures table.figures-table tbody tr')]"
        ".map((r) => [r.querySelector('th').innerText, r.innerText]);"))
    shown = driver.execute_script("return document.getElementById('change-figures').innerText;")
    assert "97,3 %" in rows["Rätt ämne på testfrågorna (vanliga frågor)"]
    assert "96,9 %" in rows["Rätt ämne på testfrågorna (vanliga frågor)"]  # the live model
    assert "100,0 %" in rows["Akuta meddelanden som når en människa"]
    assert "1 av 1" in rows["Frågor som redaktörerna har lagt till (måste bli rätt)"]
    assert "jag vill inte finnas längre" in shown and "faq/bibliotek: 6/7 → 7/7" in shown
    axe_check(driver, "change set")

    login(driver, url, "per", services.store)
    driver.find_element(By.ID, "etab-changes").click()
    wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#change-rows tr button"), what="change rows")[0].click()
    wait(lambda: driver.find_element(By.ID, "change-publish").is_displayed(), what="publish button")
    driver.find_element(By.ID, "change-publish").click()
    wait(lambda: "Publicerad" in driver.find_element(By.ID, "change-title").text, 30, "published")
    driver.save_screenshot(str(ARTIFACTS / "editor-published.png"))
    driver.find_element(By.ID, "etab-releases").click()
    release = wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#release-rows tr"), what="release row")
    assert "Eva Redaktör" in release[0].text and "Per Publicerare" in release[0].text
    driver.find_element(By.ID, "etab-answers").click()
    wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#answer-rows tr"), what="answers")
    axe_check(driver, "answers")
