"""Starting a new topic from the inbox (issue 15, "start a new topic"): the question and the
editor's own examples become a new topic file in the form of the hand-written ones, checked
by the real scripts/validate_data.py when submitted; a publisher publishes it as a commit.
Train and gate are the fakes of editor_helpers (the live path is tests/e2e)."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from gateway.catalogue import Catalogue
from tests.gateway.editor_helpers import (
    FakeRegistry,
    fakes,
    login_as,
    missing_rasa,
    say,
    services_of,
    wait_for_state,
)
from tests.gateway.test_editor_console import axe_check, browser, login, served, wait  # noqa: F401 - fixtures

API = "/staff/api/editor"
QUESTION = "kan man hyra en kolonilott av kommunen"
SV = ["hur får jag en odlingslott i stan", "kö till kolonilott i Karlstad", "odlingslotter att hyra",
      "var finns kommunens odlingslotter", "vad kostar en odlingslott per år", "kolonilott nära Herrhagen",
      "jag vill odla grönsaker men har ingen trädgård", "hur länge är kön till en kolonilott",
      "får man bygga en liten bod på odlingslotten", "säga upp min odlingslott",
      "finns det vatten vid odlingslotterna", "odlingslott för nybörjare", "stadsodling Karlstad",
      "kan en förening få en odlingsyta"]
EN = ["how do I rent an allotment garden", "allotment waiting list Karlstad", "where are the allotments",
      "price of an allotment plot", "I want to grow vegetables but have no garden",
      "can I build a shed on my allotment", "cancel my allotment plot", "urban gardening in Karlstad"]
FIELDS = {"label_sv": "Odlingslotter", "label_en": "Allotment gardens",
          "text_sv": "Kommunen hyr ut odlingslotter på flera platser. Hur du ställer dig i kö och vad det kostar "
                     "står på sidan om odlingslotter på karlstad.se.",
          "text_en": "The municipality rents out allotment plots in several places. How to join the queue and "
                     "what it costs is on the allotment page on karlstad.se.",
          "title": "Odlingslotter", "url": "https://karlstad.se/uppleva-och-gora/odlingslotter"}


async def _item(client: Any) -> str:
    await say(client, [QUESTION])
    await login_as(client, "eva", "editor", "Eva Redaktör")
    items = (await client.get(f"{API}/inbox")).json()["items"]
    return str(next(i["id"] for i in items if i["text"] == QUESTION))


async def test_a_new_topic_from_the_inbox_is_validated_trained_and_published_as_a_topic_file(
        gateway_factory: Any, tmp_path: Path) -> None:
    fake = fakes(tmp_path)
    registry = FakeRegistry()
    first = subprocess.run(["git", "rev-parse", "HEAD"], cwd=fake.root, capture_output=True, text=True).stdout.strip()
    await registry.activate((await registry.register(Path("live.tar.gz"), "live", commit=first, change_set_id=None,
                                                     author=None, publisher=None, figures={})).id, by="setup")
    async with gateway_factory(missing_rasa, **fake.settings()) as client:
        services_of(client).editor.registry = registry
        item = await _item(client)
        made = await client.post(f"{API}/inbox/{item}/new-topic", json={
            "topic": "faq/odlingslotter", "text": QUESTION, **FIELDS, "examples_sv": SV, "examples_en": EN})
        assert made.status_code == 201, made.text
        change_id = made.json()["change_set"]
        assert made.json()["examples"] == 1 + len(SV) + len(EN)
        assert all(i["text"] != QUESTION for i in (await client.get(f"{API}/inbox")).json()["items"])
        again = await client.post(f"{API}/changes/{change_id}/submit")
        assert again.status_code == 200, again.text
        ready = await wait_for_state(client, change_id, ("ready", "failed"))
        assert ready["state"] == "ready", ready.get("reason")
        assert ready["new_topics"] == [{"topic": "faq/odlingslotter", "label_sv": "Odlingslotter",
                                        "url": FIELDS["url"]}]
        assert "+++ b/nlu_data/odlingslotter.yml" in ready["diff"] and f"+    - {QUESTION}" in ready["diff"]
        gate = (fake.gate_calls.read_text(encoding="utf-8"))
        assert QUESTION in gate and "faq/odlingslotter" in gate  # the question must be answered so

        await login_as(client, "per", "publisher", "Per Publicerare")
        published = await client.post(f"{API}/changes/{change_id}/publish")
        assert published.status_code == 200, published.text

    written = fake.root / "nlu_data" / "odlingslotter.yml"
    data = yaml.safe_load(written.read_text(encoding="utf-8"))
    blocks = {(b.get("metadata") or {}).get("language", "sv"): b["examples"] for b in data["nlu"]}
    assert f"- {QUESTION}\n" in blocks["sv"] and "- urban gardening in Karlstad\n" in blocks["en"]
    answer = Catalogue.load(fake.root / "nlu_data", root=fake.root).get("utter_faq/odlingslotter")
    assert answer is not None and answer.label == {"sv": "Odlingslotter", "en": "Allotment gardens"}
    assert answer.text("en") == FIELDS["text_en"] and answer.source is not None
    assert answer.source.url == FIELDS["url"] and answer.source.author == "Eva Redaktör"
    log = subprocess.run(["git", "log", "-1", "--format=%an%n%b", "--name-only"], cwd=fake.root,
                         capture_output=True, text=True).stdout
    assert log.startswith("Eva Redaktör") and "Reviewed-by: Per Publicerare" in log
    assert "nlu_data/odlingslotter.yml" in log


async def test_a_new_topic_with_too_few_examples_fails_validation_with_the_count_it_needs(
        gateway_factory: Any, tmp_path: Path) -> None:
    fake = fakes(tmp_path)
    async with gateway_factory(missing_rasa, **fake.settings()) as client:
        item = await _item(client)
        made = await client.post(f"{API}/inbox/{item}/new-topic", json={
            "topic": "faq/odlingslotter", "text": QUESTION, **FIELDS, "examples_sv": SV[:3], "examples_en": EN[:2]})
        assert made.status_code == 201, made.text
        change_id = made.json()["change_set"]
        await client.post(f"{API}/changes/{change_id}/submit")
        failed = await wait_for_state(client, change_id, ("ready", "failed"))
    assert failed["state"] == "failed"
    assert "faq/odlingslotter har 4 svenska exempel, minst 15 behövs" in failed["reason"], failed["reason"]
    assert not fake.gate_calls.exists()  # never trained nor gated


async def test_a_new_topic_is_refused_with_a_reason_and_nothing_is_saved(gateway_factory: Any, tmp_path: Path) -> None:
    fake = fakes(tmp_path)
    body = {"topic": "faq/odlingslotter", "text": QUESTION, **FIELDS, "examples_sv": SV, "examples_en": EN}
    async with gateway_factory(missing_rasa, **fake.settings()) as client:
        item = await _item(client)
        cases = {
            "existing": {**body, "topic": "faq/bibliotek"},
            "name": {**body, "topic": "faq/Odling lotter"},
            "url": {**body, "url": "https://example.com/odla"},
            "phone": {**body, "examples_sv": [*SV, "ring mig på 070-123 45 67 om kolonilotten"]},
            "short answer": {**body, "text_sv": "Ja."},
        }
        answers = {name: await client.post(f"{API}/inbox/{item}/new-topic", json=case)
                   for name, case in cases.items()}
        changes = (await client.get(f"{API}/changes")).json()["items"]
        still = [i["text"] for i in (await client.get(f"{API}/inbox")).json()["items"]]
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(cases, 422)
    assert "finns redan" in answers["existing"].json()["error"]["message"]
    assert "telefon" in answers["phone"].json()["error"]["message"].lower() \
        or "personuppgift" in answers["phone"].json()["error"]["message"].lower()
    assert changes == []  # no draft was opened for a refused topic
    assert QUESTION in still


def test_an_editor_starts_a_new_topic_in_the_console(
        served: tuple[str, Any], browser: Any) -> None:  # noqa: F811 - fixtures
    """Chromium: "Nytt ämne" on an inbox row opens the form with the question filled in; the
    count of examples follows what she types; saving puts the topic in her draft."""
    import httpx
    from selenium.webdriver.common.by import By

    url, _ = served
    with httpx.Client(base_url=url) as citizen:
        created = citizen.post("/api/conversations").json()
        sent = citizen.post(f"/api/conversations/{created['conversation_id']}/messages",
                            headers={"Authorization": f"Bearer {created['token']}"}, json={"text": QUESTION})
        assert sent.status_code == 200, sent.text
    driver = browser
    login(driver, url, "eva")
    row = wait(lambda: [r for r in driver.find_elements(By.CSS_SELECTOR, "#inbox-rows tr") if QUESTION in r.text],
               what="the question in the inbox")[0]
    row.find_element(By.XPATH, ".//button[.='Nytt ämne']").click()
    assert driver.switch_to.active_element.get_attribute("id") == "topic-name"
    assert driver.find_element(By.ID, "topic-text").get_attribute("value") == QUESTION
    axe_check(driver, "new topic form")
    typed = {"topic-name": "odlingslotter", "topic-examples-sv": "\n".join(SV), "topic-examples-en": "\n".join(EN),
             "topic-label-sv": FIELDS["label_sv"], "topic-label-en": FIELDS["label_en"],
             "topic-answer-sv": FIELDS["text_sv"], "topic-answer-en": FIELDS["text_en"],
             "topic-title": FIELDS["title"], "topic-url": FIELDS["url"]}
    for element_id, value in typed.items():
        driver.find_element(By.ID, element_id).send_keys(value)
    assert driver.find_element(By.ID, "topic-count").text == "15 svenska exempel (minst 15) och 8 engelska (minst 8)."
    driver.find_element(By.CSS_SELECTOR, "#topic-form button[type=submit]").click()
    wait(lambda: not driver.find_element(By.ID, "topic-form").is_displayed(), what="the form to close")
    assert all(QUESTION not in r.text for r in driver.find_elements(By.CSS_SELECTOR, "#inbox-rows tr"))
    driver.find_element(By.ID, "etab-changes").click()
    wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#change-rows tr button"), what="her draft")[0].click()
    examples = wait(lambda: driver.find_element(By.ID, "change-examples").text, what="the draft's content")
    assert f"faq/odlingslotter: {QUESTION}" in examples
    assert "Nytt ämne: faq/odlingslotter (Odlingslotter)" in examples
