"""What a user (and a test) sees of the demo page and the widget in it."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"

# Helpers injected into the page. R() is the widget's shadow root.
PAGE_JS = """
window.R = () => document.getElementById('karlstad-chat').shadowRoot;
window.deepActive = () => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  return a;
};
if (!window.__kc) {
  window.__kc = {calls: [], rules: []};
  const real = window.fetch.bind(window);
  window.fetch = function (url, opts) {
    const u = String(url), m = (opts && opts.method) || 'GET';
    window.__kc.calls.push({url: u, method: m, body: opts && opts.body || null});
    for (const r of window.__kc.rules) {
      if (u.includes(r.path) && (!r.method || r.method === m) && r.times !== 0) {
        r.times -= 1;
        return r.respond(u, opts, real);
      }
    }
    return real(url, opts);
  };
}
"""



class Chat:
    """The demo page and the widget in it, as a user (and a test) sees them."""

    def __init__(self, driver: Any, url: str, axe: str) -> None:
        self.driver = driver
        self.url = url
        self.axe = axe

    # -- page ------------------------------------------------------------------------
    def load(self, path: str = "/", clear: bool = True) -> None:
        self.driver.get(self.url + path)
        if clear:
            # The old page must not write its state back after the clear
            # (its requests may still finish).
            self.driver.execute_script("Storage.prototype.setItem = function () {}; sessionStorage.clear();")
            self.driver.get(self.url + path)
        self.wait(lambda: self.js("return !!(window.KarlstadChat && window.KarlstadChat.open) && "
                                  "document.getElementById('karlstad-chat').dataset.state === 'ready'"))
        self.driver.execute_script(PAGE_JS)

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(PAGE_JS + script, *args)

    def wait(self, condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")

    def q(self, selector: str) -> Any:
        return self.driver.find_element("id", "karlstad-chat").shadow_root.find_element("css selector", selector)

    def qa(self, selector: str) -> list[Any]:
        return self.driver.find_element("id", "karlstad-chat").shadow_root.find_elements("css selector", selector)

    # -- what the user sees ---------------------------------------------------------------
    def active(self) -> dict[str, Any]:
        return dict(self.js(
            "const a = deepActive(); return {tag: a.tagName.toLowerCase(), id: a.id || '', "
            "cls: a.className && a.className.baseVal === undefined ? a.className : '', "
            "text: (a.textContent || '').trim(), label: a.getAttribute('aria-label') || ''};"
        ))

    def messages(self) -> list[dict[str, Any]]:
        return list(self.js(
            "return [...R().querySelectorAll('.kc-msg')].map(m => ({"
            "role: m.className.split(' ')[1].slice(3), "
            "lang: m.getAttribute('lang'), dir: m.getAttribute('dir'), "
            "text: m.querySelector('.kc-text').textContent, "
            "links: [...m.querySelectorAll('.kc-source a')].map(a => a.href), "
            "pending: m.classList.contains('kc-pending'), "
            "direction: getComputedStyle(m.querySelector('.kc-text')).direction}));"
        ))

    def bot_count(self) -> int:
        return int(self.js("return R().querySelectorAll('.kc-msg:not(.kc-citizen)').length"))

    def wait_bot_after(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        self.wait(lambda: self.bot_count() > count and not self.js("return R().querySelector('.kc-pending')"),
                  timeout, "an answer from the assistant")
        return self.messages()

    def settle(self) -> None:
        """Wait until the panel has finished sliding in (the typing indicator may keep pulsing)."""
        self.wait(lambda: self.js(
            "return R().getAnimations().filter(a => a.playState === 'running' "
            "&& a.effect.getTiming().iterations !== Infinity).length === 0"),
            what="animations to finish")

    def wait_open(self) -> None:
        self.wait(lambda: self.js("return R().querySelector('.kc-msg') !== null"), 30, "the welcome message")
        self.settle()

    # -- checks ----------------------------------------------------------------------------
    def axe_check(self, state: str) -> None:
        """axe-core over the whole page (including the widget's shadow root): no violations."""
        self.settle()  # measure colours when the panel has finished sliding in
        if not self.js("return !!window.axe"):
            self.driver.execute_script(self.axe)
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then("
            "r => done(JSON.stringify(r.violations)),"
            " e => done(JSON.stringify([{id: 'axe-error', help: String(e), nodes: []}])));"
        )
        violations = json.loads(result)
        report = [
            f"{v['id']} ({v.get('impact')}): {v.get('help')} -> "
            + "; ".join(
                str(n.get("target")) + " " + (n.get("failureSummary") or "").replace("\n", " ")
                for n in v.get("nodes", [])[:4]
            )
            for v in violations
        ]
        assert not violations, f"axe-core found violations in state '{state}':\n" + "\n".join(report)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"widget-{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def viewport(self, width: int | None, height: int | None = None, scale: float = 1.0) -> None:
        """Emulate a window size; scale 2 at half the CSS size is what 200 % zoom does to layout."""
        if width is None:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            return
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height or 640, "deviceScaleFactor": scale, "mobile": False},
        )

    def media(self, *features: tuple[str, str]) -> None:
        """Emulate user preferences such as prefers-reduced-motion or forced-colors (none: reset)."""
        self.driver.execute_cdp_cmd(
            "Emulation.setEmulatedMedia", {"features": [{"name": n, "value": v} for n, v in features]}
        )

    def intercept(self, path: str, respond_js: str, method: str | None = None, times: int = 1) -> None:
        """Answer the widget's next ``times`` requests to ``path`` with ``respond_js``,
        a JS function body of (url, opts, realFetch) that returns a Promise<Response>."""
        self.js(
            "window.__kc.rules.push({path: arguments[0], method: arguments[1], times: arguments[2], "
            "respond: new Function('url', 'opts', 'real', arguments[3])});",
            path, method, times, respond_js,
        )

    def clear_intercepts(self) -> None:
        self.js("window.__kc.rules = [];")
