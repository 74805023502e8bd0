"""The chat widget in real headless Chromium against the real stack (Rasa trained from the repo).

Each test starts from the demo page at / with an empty sessionStorage. axe-core runs over the
whole page (the widget's shadow root included) in every state; screenshots of each state go to
tests/artifacts/widget-*.png.
"""
from __future__ import annotations

import json
import socket
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.widget.browser import Chat

QUESTION = "Behöver jag bygglov för att bygga ett garage?"

# The explanation under the latest answer, once it has arrived: the panel that the last
# "Varför fick jag det här svaret?" button controls, without the download section that
# follows the explanation in the same panel. null while the panel is closed or still empty.
LATEST_EXPLANATION_JS = """
const b = [...R().querySelectorAll('.kc-link')].pop();
const p = R().getElementById(b.getAttribute('aria-controls'));
const title = p.querySelector('.kc-explain-title');
if (b.getAttribute('aria-expanded') !== 'true' || p.hidden || !title) return null;
const body = [...p.children].filter(c => !c.classList.contains('kc-download'));
return {
  title: title.textContent,
  text: body.map(c => c.textContent).join(' '),
  links: body.flatMap(c => [...c.querySelectorAll('a')].map(a => a.href)),
};
"""


def press(chat: Chat, *keys: str) -> None:
    ActionChains(chat.driver).send_keys(*keys).perform()


def tab_to(chat: Chat, predicate: Any, back: bool = False, limit: int = 60) -> dict[str, Any]:
    for _ in range(limit):
        if back:
            ActionChains(chat.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        else:
            press(chat, Keys.TAB)
        active = chat.active()
        if predicate(active):
            return active
    raise AssertionError(f"Tab never reached the element; last focus: {chat.active()}")


def open_and_ask(chat: Chat, text: str = QUESTION) -> list[dict[str, Any]]:
    chat.q(".kc-launcher").click()
    expanded = chat.js("return R().querySelector('.kc-launcher').getAttribute('aria-expanded')")
    assert expanded == "true", "the launcher opens the chat"
    chat.wait_open()
    before = chat.bot_count()
    chat.q("#kc-input").send_keys(text, Keys.ENTER)
    return chat.wait_bot_after(before)


def banner(chat: Chat) -> str:
    return str(chat.js("const b = R().querySelector('.kc-banner'); return b.textContent;"))


def test_full_conversation_by_keyboard_only(chat: Chat) -> None:
    chat.axe_check("closed")
    chat.screenshot("1-closed")

    launcher = tab_to(chat, lambda a: "kc-launcher" in a["cls"])
    assert "Chatta med oss" in launcher["text"]
    press(chat, Keys.ENTER)
    assert chat.active()["id"] == "kc-input", "opening the chat moves focus to the text field"
    chat.wait_open()
    welcome = chat.messages()[0]
    assert welcome["role"] == "bot" and "AI-assistent" in welcome["text"] and "inte en människa" in welcome["text"]
    assert chat.js("return R().querySelector('#kc-panel').getAttribute('role')") == "dialog"
    assert chat.js("return R().querySelector('.kc-log').getAttribute('aria-live')") == "polite"
    assert chat.js("return R().querySelector('#kc-input').labels[0].textContent") == "Skriv din fråga"
    chat.axe_check("open")
    chat.screenshot("2-open")

    press(chat, QUESTION, Keys.ENTER)
    messages = chat.wait_bot_after(1)
    mine = [m for m in messages if m["role"] == "citizen"]
    assert [m["text"] for m in mine] == [QUESTION] and mine[0]["lang"] == "sv"
    answer = messages[-1]
    assert answer["role"] == "bot" and answer["lang"] == "sv" and "bygglov" in answer["text"].lower()
    assert answer["links"] and answer["links"][0].startswith("https://"), "the answer shows its source link"
    assert chat.active()["id"] == "kc-input", "focus stays in the text field after sending"
    chat.axe_check("answered")
    chat.screenshot("3-answered")

    # "Varför fick jag det här svaret?" and feedback, by keyboard.
    why = tab_to(chat, lambda a: a["text"] == "Varför fick jag det här svaret?", back=True, limit=15)
    assert why["tag"] == "button"
    press(chat, Keys.ENTER)
    explanation = chat.wait(lambda: chat.js(LATEST_EXPLANATION_JS), what="the explanation of the answer")
    assert "svar" in explanation["title"].lower(), explanation
    assert answer["links"][0] in explanation["links"], f"the explanation names the answer's source: {explanation}"
    assert chat.active()["text"] == "Varför fick jag det här svaret?", "focus stays on the button that opened it"
    yes = tab_to(chat, lambda a: a["text"] == "Ja", limit=5)
    assert yes["tag"] == "button"
    press(chat, Keys.SPACE)
    chat.wait(lambda: "Tack" in chat.js("return R().querySelector('.kc-status').textContent"), what="feedback thanks")
    pressed = chat.js(
        "return [...R().querySelectorAll('.kc-fb')].filter(b => b.getAttribute('aria-pressed') === 'true').length"
    )
    assert pressed == 1
    chat.axe_check("explanation and feedback")
    chat.screenshot("4-explanation")

    press(chat, Keys.ESCAPE)
    assert chat.js("return R().querySelector('#kc-panel').hidden") is True
    active = chat.active()
    assert "kc-launcher" in active["cls"], f"Escape closes and returns focus to the launcher, not {active}"
    assert chat.js("return R().querySelector('.kc-launcher').getAttribute('aria-expanded')") == "false"
    press(chat, Keys.ENTER)
    assert chat.active()["id"] == "kc-input"
    assert len(chat.messages()) == len(messages), "closing and opening keeps the conversation"


def test_asking_for_a_person_shows_the_queue(chat: Chat) -> None:
    open_and_ask(chat, "jag vill prata med en människa")
    chat.wait(lambda: "kö" in banner(chat), what="the queue banner")
    text = banner(chat)
    assert "person" in text and "nummer" in text, text
    assert chat.js("return document.getElementById('karlstad-chat').dataset.handoff") == "waiting"
    assert chat.js("return R().querySelector('.kc-banner').getAttribute('role')") == "status"
    chat.axe_check("waiting for a person")
    chat.screenshot("5-waiting")


def test_unavailable_assistant_keeps_the_typed_text_and_retries(chat: Chat) -> None:
    open_and_ask(chat)
    before = chat.bot_count()
    chat.intercept("/messages", "return Promise.resolve(new Response(JSON.stringify({error: {code: 'unavailable', "
                   "message: 'Assistenten är inte tillgänglig just nu.'}}), "
                   "{status: 503, headers: {'content-type': 'application/json'}}));",
                   method="POST")
    field = chat.q("#kc-input")
    field.send_keys("Vad kostar bygglov?", Keys.ENTER)
    chat.wait(lambda: chat.js("return R().querySelector('.kc-alert').classList.contains('kc-on')"),
              what="the error message")
    alert = chat.js("return R().querySelector('.kc-alert-text').textContent")
    assert "inte tillgänglig" in alert and "Din text finns kvar" in alert
    assert field.get_attribute("value") == "Vad kostar bygglov?", "the typed message is not lost"
    sent = [m["text"] for m in chat.messages() if m["role"] == "citizen"]
    assert sent == [QUESTION], "the failed message is not shown as sent"
    assert chat.js("return R().querySelector('.kc-alert').getAttribute('role')") == "alert"
    chat.axe_check("error (503)")
    chat.screenshot("6-error-503")

    chat.q(".kc-retry").click()
    chat.wait_bot_after(before)
    assert field.get_attribute("value") == ""
    assert chat.js("return R().querySelector('.kc-alert-text').textContent") == ""
    assert [m["text"] for m in chat.messages() if m["role"] == "citizen"][-1] == "Vad kostar bygglov?"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def embed_page(gateway_url: str, tmp_path: Path) -> Any:
    """A page on another origin that embeds the widget with a gateway that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]  # nothing listens here once the socket is closed
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Inbäddad sida</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>'
        "<main><h1>En sida på en annan webbplats</h1><p>Chatten är inbäddad med en skripttagg.</p></main>"
        f'<script src="{gateway_url}/widget/widget.js" data-gateway="http://127.0.0.1:{dead}" defer></script>'
        "</body></html>",
        encoding="utf-8",
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_gateway_down_shows_a_clear_message_and_keeps_the_text(chat: Chat, embed_page: str) -> None:
    embedded = Chat(chat.driver, embed_page, chat.axe)
    embedded.load()
    embedded.q(".kc-launcher").click()
    embedded.wait(lambda: embedded.js("return R().querySelector('.kc-alert').classList.contains('kc-on')"),
                  what="the start error")
    assert "kunde inte startas" in embedded.js("return R().querySelector('.kc-alert-text').textContent")
    assert embedded.js("return !R().querySelector('.kc-retry').hidden") is True
    field = embedded.q("#kc-input")
    field.send_keys("Hur ansöker jag om bygglov?", Keys.ENTER)
    embedded.wait(
        lambda: "Din text finns kvar" in embedded.js("return R().querySelector('.kc-alert-text').textContent"),
        what="the network error",
    )
    assert field.get_attribute("value") == "Hur ansöker jag om bygglov?"
    assert embedded.messages() == []
    embedded.axe_check("error (gateway down)")
    embedded.screenshot("7-error-gateway-down")
    embedded.driver.refresh()
    embedded.load(clear=False)
    kept = embedded.q("#kc-input").get_attribute("value")
    assert kept == "Hur ansöker jag om bygglov?", "a reload keeps the unsent text"


def test_reload_keeps_the_conversation(chat: Chat) -> None:
    before = open_and_ask(chat)
    chat.q("#kc-input").send_keys("ett utkast")
    conversation = chat.js(
        "return JSON.parse(sessionStorage.getItem('karlstad-chat:' + location.origin)).conversation_id "
        "|| JSON.parse(sessionStorage.getItem('karlstad-chat:' + location.origin)).id"
    )
    chat.driver.refresh()
    chat.load(clear=False)
    chat.wait(lambda: len(chat.messages()) == len(before), what="the restored transcript")
    after = chat.messages()
    assert [(m["role"], m["text"]) for m in after] == [(m["role"], m["text"]) for m in before]
    assert after[-1]["links"] == before[-1]["links"]
    assert chat.js("return R().querySelector('#kc-panel').hidden") is False, "an open chat stays open"
    assert chat.q("#kc-input").get_attribute("value") == "ett utkast"
    chat.wait(lambda: chat.js("return R().querySelector('.kc-log').getAttribute('aria-live')") == "polite")
    assert chat.js("return JSON.parse(sessionStorage.getItem('karlstad-chat:' + location.origin)).id") == conversation
    chat.screenshot("8-after-reload")


def test_markup_in_messages_is_shown_as_text(chat: Chat) -> None:
    attack = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    open_and_ask(chat, attack)
    mine = [m for m in chat.messages() if m["role"] == "citizen"][-1]
    assert mine["text"] == attack

    # A crafted answer through the real rendering path: text, source, buttons and staff author.
    crafted = {
        "conversation_id": "x", "language": {"code": "sv", "name": "Svenska", "dir": "ltr"},
        "handoff": None,
        "messages": [
            {"id": "a" * 32, "role": "bot", "language": "sv", "dir": "ltr", "machine_translated": False,
             "text": '<img src=x onerror="window.__xss=3"> Läs mer på https://karlstad.se/bygglov.',
             "source": {"title": "<b>Bygglov</b><img src=x onerror=\"window.__xss=4\">",
                        "url": "javascript:window.__xss=5"},
             "basis_id": None, "author": None,
             "buttons": [{"title": '<img src=x onerror="window.__xss=6">', "payload": "/affirm"}]},
            {"id": "b" * 32, "role": "staff", "language": "sv", "dir": "ltr", "machine_translated": False,
             "text": "Hej<svg onload=\"window.__xss=7\">", "source": None, "basis_id": None,
             "author": '<img src=x onerror="window.__xss=8">', "buttons": []},
        ],
    }
    chat.intercept("/messages", "return Promise.resolve(new Response(" + json.dumps(json.dumps(crafted))
                   + ", {status: 200, headers: {'content-type': 'application/json'}}));", method="POST")
    before = chat.bot_count()
    chat.q("#kc-input").send_keys("test", Keys.ENTER)
    messages = chat.wait_bot_after(before)
    chat.wait(lambda: chat.js("return window.__xss === undefined ? 'ok' : String(window.__xss)") == "ok")
    bot, staff = messages[-2], messages[-1]
    assert bot["text"].startswith('<img src=x onerror="window.__xss=3">')
    assert bot["links"] == [], "a javascript: source URL is not made a link"
    linked = chat.js("return [...R().querySelectorAll('.kc-msg')].at(-2).querySelector('.kc-text a').href")
    assert linked == "https://karlstad.se/bygglov"
    chip = chat.js("return [...R().querySelectorAll('.kc-chip')].at(-1).textContent")
    assert chip == '<img src=x onerror="window.__xss=6">'
    assert staff["text"] == 'Hej<svg onload="window.__xss=7">'
    author = chat.js("return R().querySelector('.kc-staff .kc-who').textContent")
    assert '<img src=x onerror="window.__xss=8">' in author
    counts = chat.js(
        "const r = R(); return ['img', 'script', 'b', 'svg:not(.kc-icon)']"
        ".map(s => r.querySelectorAll('.kc-log ' + s).length)"
    )
    assert counts == [0, 0, 0, 0], counts
    assert chat.js("return window.__xss === undefined") is True
    chat.screenshot("9-markup-as-text")


def test_machine_translated_answers_are_labelled_in_their_language(chat: Chat) -> None:
    open_and_ask(chat)
    reply = {
        "conversation_id": "x", "language": {"code": "ar", "name": "العربية", "dir": "rtl"}, "handoff": None,
        "messages": [{"id": "c" * 32, "role": "bot", "language": "ar", "dir": "rtl", "machine_translated": True,
                      "text": "تحتاج عادة إلى رخصة بناء لبناء مرآب.", "basis_id": "d" * 32, "author": None,
                      "buttons": [], "source": {"title": "Bygglov", "url": "https://karlstad.se/bygglov"}}],
    }
    chat.intercept("/messages", "return Promise.resolve(new Response(" + json.dumps(json.dumps(reply))
                   + ", {status: 200, headers: {'content-type': 'application/json'}}));", method="POST")
    before = chat.bot_count()
    chat.q("#kc-input").send_keys("هل أحتاج إلى رخصة بناء لمرآب؟", Keys.ENTER)
    messages = chat.wait_bot_after(before)
    assert messages[-1]["lang"] == "ar" and messages[-1]["dir"] == "rtl" and messages[-1]["direction"] == "rtl"
    label = chat.js(
        "const l = [...R().querySelectorAll('.kc-mt')].pop();"
        " return [l.textContent, l.querySelector('[lang]') && l.querySelector('[lang]').getAttribute('lang')];"
    )
    assert label == ["ترجمة آلية · Maskinöversatt", "ar"], label
    assert messages[-2]["role"] == "citizen" and messages[-2]["lang"] == "ar" and messages[-2]["dir"] == "rtl"


def test_arabic_chosen_in_the_menu_renders_right_to_left(chat: Chat) -> None:
    chat.q(".kc-launcher").click()
    chat.wait_open()
    select = chat.q("#kc-lang")
    chat.wait(lambda: chat.js("return R().querySelectorAll('#kc-lang option').length") > 2, what="the language list")
    names = chat.js("return [...R().querySelectorAll('#kc-lang option')].map(o => [o.value, o.textContent, o.lang])")
    assert ["sv", "Svenska", "sv"] in names and ["en", "English", "en"] in names
    assert ["ar", "العربية", "ar"] in names, "each language is named in its own language"
    chat.js("R().getElementById('kc-lang').focus();")
    assert chat.active()["id"] == "kc-lang"
    steps = []
    for _ in range(10):  # by keyboard, as on a closed select
        steps.append(select.get_attribute("value"))
        if steps[-1] == "ar":
            break
        press(chat, Keys.ARROW_DOWN)
    assert steps[-1] == "ar", f"arrow keys went through {steps}"
    chat.wait(lambda: "العربية" in chat.js("return R().querySelector('.kc-status').textContent"),
              what="language confirmation")
    before = chat.bot_count()
    chat.q("#kc-input").send_keys("أحتاج إلى رخصة بناء لبناء مرآب", Keys.ENTER)
    messages = chat.wait_bot_after(before)
    mine = [m for m in messages if m["role"] == "citizen"][-1]
    assert (mine["lang"], mine["dir"], mine["direction"]) == ("ar", "rtl", "rtl")
    arabic = [m for m in messages[before + 1:] if m["lang"] == "ar" and m["role"] != "citizen"]
    assert arabic, f"an answer in Arabic: {messages}"
    assert all(m["dir"] == "rtl" and m["direction"] == "rtl" for m in arabic)
    others = [m for m in messages[before + 1:] if m["lang"] in ("sv", "en")]
    assert all(m["dir"] == "ltr" for m in others), "Swedish and English answers stay left to right"
    chat.axe_check("Arabic, right to left")
    chat.js("[...R().querySelectorAll('.kc-citizen[lang=ar]')].pop().scrollIntoView({block: 'start'});")
    scrolled = chat.js("return R().querySelector('#kc-panel').scrollTop")
    assert scrolled == 0, "only the conversation scrolls, never the panel"
    chat.screenshot("10-arabic-rtl")


def _layout(chat: Chat) -> dict[str, Any]:
    return dict(chat.js(
        "const r = R(), p = r.querySelector('#kc-panel').getBoundingClientRect(),"
        " i = r.querySelector('#kc-input').getBoundingClientRect(),"
        " s = r.querySelector('.kc-send').getBoundingClientRect(), log = r.querySelector('.kc-log');"
        "return {pageScroll: document.documentElement.scrollWidth - window.innerWidth,"
        " vw: window.innerWidth, vh: window.innerHeight,"
        " panel: [p.left, p.right, p.top, p.bottom], input: [i.left, i.right, i.top, i.bottom],"
        " send: [s.left, s.right, s.top, s.bottom],"
        " logScroll: log.scrollWidth - log.clientWidth, logHeight: log.clientHeight};"
    ))


def _assert_usable(layout: dict[str, Any]) -> None:
    vw, vh = layout["vw"], layout["vh"]
    assert layout["pageScroll"] <= 0, f"horizontal scroll on the page: {layout}"
    assert layout["logScroll"] <= 0, f"horizontal scroll in the conversation: {layout}"
    left, right, top, bottom = layout["panel"]
    assert left >= 0 and right <= vw + 0.5 and top >= 0 and bottom <= vh + 0.5, f"panel outside the window: {layout}"
    for part in ("input", "send"):
        left, right, top, bottom = layout[part]
        assert left >= 0 and right <= vw + 0.5 and top >= 0 and bottom <= vh + 0.5, f"{part} not visible: {layout}"
    assert layout["input"][1] - layout["input"][0] >= 120, f"the text field is too narrow: {layout}"
    assert layout["logHeight"] >= 40, f"no room for the conversation: {layout}"


def test_usable_at_320_px_and_at_200_percent_zoom(chat: Chat) -> None:
    chat.media(("prefers-reduced-motion", "reduce"))  # measure the panel where it stays, not mid-animation
    chat.viewport(320, 640)
    chat.load(clear=False)
    assert chat.js("return document.documentElement.scrollWidth - window.innerWidth") <= 0
    open_and_ask(chat, "Vad gäller för bygglov? Se https://karlstad.se/bygga-bo-och-leva-hallbart/"
                       "bygglov-och-tillstand/bra-att-veta-vid-bygglov-och-anmalan")
    _assert_usable(_layout(chat))
    chat.axe_check("320 px wide")
    chat.screenshot("11-320px")

    # 1280×800 at 200 % zoom: the layout sees a 640×400 window with two device pixels per CSS pixel.
    chat.viewport(640, 400, scale=2)
    chat.load(clear=False)
    chat.wait(lambda: len(chat.messages()) >= 3, what="the restored conversation")
    _assert_usable(_layout(chat))
    chat.q("#kc-input").send_keys(QUESTION, Keys.ENTER)
    chat.wait_bot_after(2)
    _assert_usable(_layout(chat))
    chat.axe_check("200 % zoom")
    chat.screenshot("12-zoom-200")


def test_after_hours_call_back_form(chat: Chat) -> None:
    open_and_ask(chat)
    # The test stack is always open, so the turn that meets closed hours is crafted here.
    reply = {
        "conversation_id": "x", "language": {"code": "sv", "name": "Svenska", "dir": "ltr"},
        "handoff": {"status": "after_hours", "reason": "request_human", "position": 1},
        "messages": [{"id": "e" * 32, "role": "bot", "language": "sv", "dir": "ltr", "machine_translated": False,
                      "text": "Jag kopplar dig till en person på Kontaktcenter.", "basis_id": None, "author": None,
                      "buttons": [], "source": None}],
    }
    chat.intercept("/events", "return new Promise(() => {});")  # a stream that stays quiet
    chat.intercept("/messages", "return Promise.resolve(new Response(" + json.dumps(json.dumps(reply))
                   + ", {status: 200, headers: {'content-type': 'application/json'}}));", method="POST")
    chat.intercept("/callback", "window.__callback = opts.body; "
                   "return Promise.resolve(new Response('{\"status\": \"requested\"}', "
                   "{status: 201, headers: {'content-type': 'application/json'}}));", method="POST")
    before = chat.bot_count()
    chat.q("#kc-input").send_keys("jag vill prata med en människa", Keys.ENTER)
    chat.wait_bot_after(before)
    chat.wait(lambda: "stängt" in banner(chat), what="the closed banner")
    form = chat.q(".kc-callback")
    labels = chat.js("return [...R().querySelectorAll('.kc-callback input')].map(i => i.labels[0].textContent)")
    assert labels == ["Namn (frivilligt)", "Telefonnummer", "När passar det att vi ringer? (frivilligt)"]

    form.find_element("css selector", "input").send_keys(Keys.ENTER)  # submit with nothing filled in
    invalid = chat.js(
        "return [...R().querySelectorAll('.kc-callback input')].map(i => i.getAttribute('aria-invalid'))"
    )
    assert invalid == [None, "true", None]
    phone_id = chat.js("return R().querySelectorAll('.kc-callback input')[1].id")
    assert chat.active()["id"] == phone_id, "focus moves to the field to fix"
    assert "Skriv ett telefonnummer" in form.text
    described = chat.js(
        "const p = R().querySelectorAll('.kc-callback input')[1];"
        " return R().getElementById(p.getAttribute('aria-describedby')).textContent"
    )
    assert described.startswith("Skriv ett telefonnummer")
    chat.axe_check("call-back form with errors")
    inputs = form.find_elements("css selector", "input")
    inputs[0].send_keys("Anna Andersson")
    inputs[1].send_keys("070-123 45 67")
    inputs[2].send_keys("efter kl. 13")
    chat.screenshot("13-callback-form")
    inputs[2].send_keys(Keys.ENTER)
    chat.wait(lambda: "Vi ringer upp dig" in chat.q(".kc-callback").text, what="the call-back confirmation")
    assert json.loads(chat.js("return window.__callback")) == {
        "name": "Anna Andersson", "phone": "070-123 45 67", "preferred_time": "efter kl. 13"}
    chat.axe_check("call-back sent")


def test_staff_reply_arrives_over_a_reconnected_event_stream(chat: Chat) -> None:
    # The first stream drops after a moment (a network drop); the second carries a staff reply,
    # then the handoff ends. Both are served to the widget's real stream reader.
    chat.js("window.__sse = null;")
    chat.intercept("/events", "return Promise.resolve(new Response(new ReadableStream({start(c) {"
                   " setTimeout(() => c.error(new TypeError('network error')), 300); }}), {status: 200, "
                   "headers: {'content-type': 'text/event-stream'}}));")
    chat.intercept("/events", "return Promise.resolve(new Response("
                   "new ReadableStream({start(c) { window.__sse = c; }}), "
                   "{status: 200, headers: {'content-type': 'text/event-stream'}}));")
    open_and_ask(chat, "jag vill prata med en människa")
    chat.wait(lambda: chat.js("return window.__sse !== null"), timeout=15, what="a second event stream")
    assert chat.js("return window.__kc.calls.filter(c => c.url.includes('/events')).length") == 2
    assert chat.js("return window.__kc.calls.filter(c => c.url.includes('/events'))[1].url").endswith("/events")
    chat.driver.execute_script("""
      const send = (type, data) => window.__sse.enqueue(new TextEncoder().encode(
        'event: ' + type + '\\r\\ndata: ' + JSON.stringify(data) + '\\r\\n\\r\\n'));
      setTimeout(() => {
        send('message', {id: 'f'.repeat(32), role: 'staff', author: 'Anna', language: 'sv', dir: 'ltr',
                         text: 'Hej! Jag heter Anna. Hur kan jag hjälpa dig?',
                         source: null, machine_translated: false, basis_id: null, buttons: []});
        send('handoff', {status: 'active', reason: 'request_human', position: null});
      }, 600);""")
    chat.wait(lambda: "Anna på Kontaktcenter svarar dig nu" in banner(chat), what="the active banner")
    staff = [m for m in chat.messages() if m["role"] == "staff"]
    assert [m["text"] for m in staff] == ["Hej! Jag heter Anna. Hur kan jag hjälpa dig?"]
    assert chat.js("return R().querySelector('.kc-staff .kc-who').textContent") == "Anna, Kontaktcenter"
    chat.axe_check("a person is answering")
    chat.screenshot("14-staff-answering")
    chat.driver.execute_script(
        "window.__sse.enqueue(new TextEncoder().encode("
        "'event: handoff\\ndata: {\"status\": \"closed\", \"reason\": \"request_human\"}\\n\\n'));")
    chat.wait(lambda: "AI-assistenten igen" in banner(chat), what="back to the assistant")
    assert chat.js("return document.getElementById('karlstad-chat').dataset.handoff") == "closed"
    chat.screenshot("15-back-to-assistant")


def test_reduced_motion_and_forced_colours(chat: Chat) -> None:
    opening = "KarlstadChat.open(); return R().querySelector('#kc-panel').getAnimations().length;"
    assert chat.js(opening) == 1, "the panel slides in by default"
    chat.wait_open()
    chat.js("KarlstadChat.close();")
    chat.media(("prefers-reduced-motion", "reduce"))
    assert chat.js(opening) == 0, "no animation when the user asks for reduced motion"

    chat.media(("prefers-reduced-motion", "reduce"), ("forced-colors", "active"))
    chat.q("#kc-input").click()
    styles = chat.js(
        "const r = R(), css = e => getComputedStyle(e);"
        "return {msg: css(r.querySelector('.kc-msg')).borderTopStyle + ' '"
        " + css(r.querySelector('.kc-msg')).borderTopWidth,"
        " launcher: css(r.querySelector('.kc-launcher')).borderTopStyle,"
        " send: css(r.querySelector('.kc-send')).borderTopStyle,"
        " focus: css(r.querySelector('#kc-input')).outlineStyle + ' '"
        " + css(r.querySelector('#kc-input')).outlineWidth};"
    )
    assert styles == {"msg": "solid 2px", "launcher": "solid", "send": "solid", "focus": "solid 3px"}, styles
    chat.screenshot("16-forced-colors")


@pytest.fixture
def staff_client(request: pytest.FixtureRequest, gateway_url: str) -> Any:
    """A logged-in contact-centre user on the live stack (skipped when pointed elsewhere)."""
    import os
    import subprocess
    import sys

    import httpx

    if os.environ.get("WIDGET_GATEWAY_URL"):
        pytest.skip("needs the live stack's database to create a staff account")
    stack = request.getfixturevalue("live_stack")
    if httpx.post(f"{gateway_url}/staff/api/login", json={"username": "x", "password": "y"}).status_code == 404:
        pytest.skip("this gateway has no staff console API")
    password = "widget-test-password-0123"
    created = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "staff-user", "--username", "anna.widget", "--display-name", "Anna",
         "--role", "staff", "--password-stdin"],
        input=password + "\n", env=stack._env(), cwd=str(Path(__file__).resolve().parent.parent.parent),
        capture_output=True, text=True, timeout=60,
    )
    assert created.returncode == 0 or "exists" in created.stderr, created.stderr
    client = httpx.Client(base_url=gateway_url, timeout=20)
    login = client.post("/staff/api/login", json={"username": "anna.widget", "password": password})
    assert login.status_code == 200, login.text
    client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    yield client
    client.close()


def test_a_person_answers_live_over_the_event_stream(chat: Chat, staff_client: Any) -> None:
    """The real handoff: queue → a person claims and replies → back to the assistant."""
    open_and_ask(chat, "jag vill prata med en människa")
    chat.wait(lambda: "kö" in banner(chat), what="the queue banner")
    chat.wait(lambda: chat.js("return window.__kc.calls.some(c => c.url.includes('/events'))"), what="the event stream")
    saved = chat.js("return JSON.parse(sessionStorage.getItem('karlstad-chat:' + location.origin))")
    transcript = staff_client.get(f"/api/conversations/{saved['id']}/messages",
                                  headers={"Authorization": "Bearer " + saved["token"]}).json()
    ticket = transcript["handoff"]["ticket_id"]

    assert staff_client.post(f"/staff/api/tickets/{ticket}/claim").status_code == 200
    chat.wait(lambda: "Anna på Kontaktcenter svarar dig nu" in banner(chat), what="the claimed banner")
    reply = staff_client.post(f"/staff/api/tickets/{ticket}/messages",
                              json={"text": "Hej! Vad kan jag hjälpa dig med?"})
    assert reply.status_code == 200, reply.text
    chat.wait(lambda: any(m["role"] == "staff" and m["text"] == "Hej! Vad kan jag hjälpa dig med?"
                          for m in chat.messages()),
              what="the staff reply")
    assert chat.js("return [...R().querySelectorAll('.kc-staff .kc-who')].pop().textContent") == "Anna, Kontaktcenter"
    assert [m["text"] for m in chat.messages()].count("Hej! Vad kan jag hjälpa dig med?") == 1, "shown once"
    chat.axe_check("a person is answering (live)")
    chat.screenshot("17-staff-live")

    assert staff_client.post(f"/staff/api/tickets/{ticket}/return").status_code == 200
    chat.wait(lambda: "AI-assistenten igen" in banner(chat), what="back to the assistant")
    before = chat.bot_count()
    chat.q("#kc-input").send_keys(QUESTION, Keys.ENTER)
    answer = chat.wait_bot_after(before)[-1]
    assert answer["role"] == "bot" and answer["links"], "the assistant answers again"
    chat.screenshot("18-back-to-assistant-live")


# ---- issue 11: the citizen's own records, and the welcome in the browser's language ----------
def test_citizen_downloads_the_records_of_their_conversation_as_text_and_json(chat: Chat, tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    chat.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    open_and_ask(chat)
    why = tab_to(chat, lambda a: a["text"] == "Varför fick jag det här svaret?", back=True, limit=15)
    assert why["tag"] == "button"
    press(chat, Keys.ENTER)
    group = chat.wait(lambda: chat.js(
        "const g = [...R().querySelectorAll('.kc-explain .kc-download')].pop();"
        "return g && !g.closest('.kc-explain').hidden && [g.getAttribute('role'), g.textContent];"),
        what="the download buttons in the explanation")
    assert group == ["group", "Underlaget för hela samtalet:Ladda ner som textLadda ner som JSON"]
    chat.axe_check("explanation with downloads")

    def fetched(suffix: str) -> Path:
        def done() -> Path | None:
            found = [p for p in downloads.glob(f"ai-underlag-*{suffix}") if p.stat().st_size > 0]
            return found[0] if found else None
        return Path(chat.wait(done, what=f"the {suffix} file in the download folder"))

    # by keyboard: Tab from the explanation to the text button, Enter
    tab_to(chat, lambda a: a["text"] == "Ladda ner som text", limit=10)
    press(chat, Keys.ENTER)
    text = fetched(".txt").read_text(encoding="utf-8")
    chat.wait(lambda: "nedladdat" in chat.js("return R().querySelector('.kc-status').textContent"),
              what="the download announced")
    assert text.startswith("Underlag för ditt samtal med Karlstads kommuns AI-assistent")
    assert f"Du skrev: {QUESTION}" in text
    assert "Kontrollsummorna stämmer: ingen post har ändrats (1 poster)." in text
    assert "Texten är skriven av" in text and "bygglov" in text.lower()

    tab_to(chat, lambda a: a["text"] == "Ladda ner som JSON", limit=5)
    press(chat, Keys.ENTER)
    records = json.loads(fetched(".json").read_text(encoding="utf-8"))
    assert records["chain"]["ok"] is True and len(records["records"]) == 1
    assert records["records"][0]["user_text_masked"] == QUESTION
    assert records["conversation_id"] in fetched(".txt").name


def _browser_preferring(accept: str, profile: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from tests.widget.conftest import _chromium

    binary, chromedriver = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-dev-shm-usage", "--window-size=1280,900",
                f"--lang={accept.split(',')[0]}", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": accept})
    browser = webdriver.Chrome(service=Service(chromedriver), options=options)
    browser.set_script_timeout(30)
    return browser


def _expected_welcome(accept: str) -> list[str]:
    """The rule, read from the data: the first browser language with a welcome nobody has to
    guess at (sv, en, or a line a translator verified), else Swedish and English."""
    from gateway import texts
    from translation.langid import normalise_code, served
    from translation.notices import Notices

    welcome = Notices.load().entries.get("welcome", {})
    original = welcome.get("sv")
    for code in accept.split(","):
        lang = served(normalise_code(code))
        if lang in ("sv", "en"):
            return [lang]
        line = welcome.get(lang)
        if line and line.verified and original and original.text == texts.text("welcome", "sv"):
            return [lang, "sv", "en"]
    return ["sv", "en"]


@pytest.mark.parametrize("accept, launcher", [("en-US,en", "Chat with us"), ("ar,de", "Chatta med oss")])
def test_the_welcome_comes_in_the_browsers_language(
    gateway_url: str, axe_source: str, tmp_path: Path, accept: str, launcher: str
) -> None:
    from gateway import texts

    driver = _browser_preferring(accept, tmp_path / "profile")
    try:
        chat = Chat(driver, gateway_url, axe_source)
        chat.load()
        assert chat.js("return navigator.languages") == accept.split(",")
        assert chat.q(".kc-launcher").text.startswith(launcher)
        chat.q(".kc-launcher").click()
        chat.wait_open()
        expected = _expected_welcome(accept)
        chat.wait(lambda: len(chat.messages()) >= len(expected), what="the whole welcome")
        welcome = chat.messages()
        assert [m["lang"] for m in welcome] == expected
        for m in welcome:
            if m["lang"] in ("sv", "en"):
                assert m["text"] == texts.text("welcome", m["lang"])
        chat.axe_check(f"welcome for {accept}")
        chat.screenshot(f"welcome-{accept.split(',')[0]}")
    finally:
        driver.quit()


# ---- issue 11: safety information on a phone (points 2 and 3) ---------------------------------
DANGER = "jag tänker ta livet av mig"
# Every number in the safety information (gateway/safety.py SAFETY_NUMBERS) and where a tap calls.
TEL = {"112": "tel:112", "90101": "tel:90101", "020-50 50 50": "tel:+4620505050",
       "054-540 50 54": "tel:+46545405054", "114 14": "tel:11414", "1177": "tel:1177"}


def _phone(chat: Chat) -> None:
    """A 390×844 phone with a touch screen (and no animations to wait for)."""
    chat.media(("prefers-reduced-motion", "reduce"))
    chat.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True})
    chat.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})


def _off_phone(chat: Chat) -> None:
    chat.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
    chat.viewport(None)


def _safety_answer(chat: Chat) -> None:
    chat.wait(lambda: chat.js("return !!R().querySelector('.kc-msg[data-safety]')"), 30, "the safety information")
    chat.settle()


def test_every_number_in_the_safety_information_is_a_link_a_phone_can_tap(chat: Chat) -> None:
    from gateway.safety import SAFETY_NUMBERS

    assert set(SAFETY_NUMBERS) == set(TEL), "a new number in the safety information needs its check here"
    _phone(chat)
    try:
        chat.load(clear=False)
        open_and_ask(chat, DANGER)
        _safety_answer(chat)
        links = chat.js("return [...R().querySelector('.kc-msg[data-safety] .kc-text').querySelectorAll('a')]"
                        ".map(a => [a.textContent, a.getAttribute('href')])")
        assert {text: href for text, href in links if text in TEL} == TEL, links
        # A tap on each number: the tap lands on the link, and the link calls the number.
        chat.js("window.__tapped = []; R().addEventListener('click', e => { const a = e.composedPath()[0].closest"
                "('a'); if (a) { window.__tapped.push(a.href); e.preventDefault(); } }, true);")
        for number, href in TEL.items():
            box = chat.js(
                "const a = [...R().querySelector('.kc-msg[data-safety] .kc-text').querySelectorAll('a')]"
                ".find(a => a.textContent === arguments[0]); a.scrollIntoView({block: 'center'});"
                "const r = a.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2, r.height];",
                number)
            assert box[2] >= 20, f"{number} is too small to tap: {box}"
            chat.driver.execute_cdp_cmd("Input.dispatchTouchEvent",
                                        {"type": "touchStart", "touchPoints": [{"x": box[0], "y": box[1]}]})
            chat.driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
            chat.wait(lambda: chat.js("return window.__tapped.length") > 0, 5, f"the tap on {number}")
            assert chat.js("return window.__tapped.pop()") == href
        chat.axe_check("safety information on a phone")
        chat.screenshot("19-safety-links")
    finally:
        _off_phone(chat)


def test_after_hours_safety_information_stays_readable_above_the_call_back_offer(chat: Chat) -> None:
    """At 390×844 the call-back offer must not push the safety information out of sight."""
    _phone(chat)
    try:
        chat.load(clear=False)
        chat.q(".kc-launcher").click()
        chat.wait_open()
        # The test stack is always open: the real answer, shown as outside opening hours.
        chat.intercept("/events", "return new Promise(() => {});")
        chat.intercept("/messages", "return real(url, opts).then(r => r.json()).then(d => {"
                       " d.handoff.status = 'after_hours'; d.handoff.position = null;"
                       " d.handoff.callback_requested = false; return new Response(JSON.stringify(d),"
                       " {status: 200, headers: {'content-type': 'application/json'}}); });", method="POST")
        before = chat.bot_count()
        chat.q("#kc-input").send_keys(DANGER, Keys.ENTER)
        chat.wait_bot_after(before)
        _safety_answer(chat)
        chat.wait(lambda: "stängt" in banner(chat), what="the closed banner")
        chat.wait(lambda: chat.js("return !!R().querySelector('.kc-cbtoggle')"), what="the call-back offer")
        seen = chat.js(
            "const r = R(), m = r.querySelector('.kc-msg[data-safety]'),"
            " t = m.querySelector('.kc-text').getBoundingClientRect(),"
            " log = r.querySelector('.kc-log').getBoundingClientRect();"
            "const at = (x, y) => { const e = r.elementFromPoint(x, y); return !!e && m.contains(e); };"
            "return {text: [t.top, t.bottom], log: [log.top, log.bottom], vh: innerHeight, height: t.height,"
            " hits: [at(t.left + 4, t.top + 4), at(t.left + t.width / 2, t.top + t.height / 2),"
            " at(t.right - 4, t.bottom - 4)]};")
        assert seen["log"][0] <= seen["text"][0] and seen["text"][1] <= seen["log"][1] <= seen["vh"], seen
        assert seen["hits"] == [True, True, True], f"something covers the safety information: {seen}"
        assert seen["height"] > 150, seen  # all of it, not a few lines
        # The call-back form is one tap away, not in the way.
        assert chat.js("return R().querySelector('.kc-cbtoggle').getAttribute('aria-expanded')") == "false"
        assert chat.js("return R().querySelector('.kc-callback').hidden") is True
        chat.axe_check("after hours, safety information on a phone")
        chat.screenshot("20-after-hours-safety-phone")
        chat.q(".kc-cbtoggle").click()
        assert chat.js("return R().querySelector('.kc-cbtoggle').getAttribute('aria-expanded')") == "true"
        assert chat.active()["id"] == chat.js("return R().querySelector('.kc-callback input').id")
        labels = chat.js("return [...R().querySelectorAll('.kc-callback input')].map(i => i.labels[0].textContent)")
        assert labels == ["Namn (frivilligt)", "Telefonnummer", "När passar det att vi ringer? (frivilligt)"]
        chat.axe_check("after hours, call-back form opened on a phone")
    finally:
        chat.clear_intercepts()
        _off_phone(chat)
