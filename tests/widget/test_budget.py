"""The widget stays small and never turns server text into HTML (no browser needed)."""
from __future__ import annotations

import gzip
import re
from pathlib import Path

WIDGET = Path(__file__).resolve().parent.parent.parent / "widget"
BUDGET = 30 * 1024  # bytes, gzipped JS + CSS (issue 7)


def gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def test_widget_js_and_css_fit_the_30_kb_gzip_budget() -> None:
    sizes = {name: gzipped(WIDGET / name) for name in ("widget.js", "widget.css")}
    total = sum(sizes.values())
    assert total <= BUDGET, f"widget is {total} bytes gzipped ({sizes}); the budget is {BUDGET}"


def test_widget_never_parses_strings_as_html() -> None:
    source = (WIDGET / "widget.js").read_text(encoding="utf-8")
    code = re.sub(r"^\s*(//|\*).*$", "", source, flags=re.M)  # comments may name the APIs
    for api in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "DOMParser",
                "createContextualFragment", "eval(", "new Function"):
        assert api not in code, f"widget.js uses {api}; build elements and set textContent instead"


def test_demo_page_embeds_the_widget_with_one_script_tag() -> None:
    demo = (WIDGET / "demo.html").read_text(encoding="utf-8")
    tags = re.findall(r"<script\b[^>]*>", demo)
    assert tags == ['<script src="/widget/widget.js" data-gateway="" defer>'], tags
    assert '<html lang="sv">' in demo
