"""The staff console is an ES module with imports: the page loads it as a module and the
gateway serves every module it imports, under the console's CSP (scripts from 'self')."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

STAFF = Path(__file__).resolve().parents[2] / "gateway" / "staff"
IMPORT = re.compile(r'^import .* from "\./([\w-]+\.js)";$', re.MULTILINE)


def _imported(entry: str) -> set[str]:
    seen: set[str] = set()
    todo = [entry]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(IMPORT.findall((STAFF / name).read_text(encoding="utf-8")))
    return seen


async def test_every_module_the_console_imports_is_served_as_javascript(gateway_factory: Any) -> None:
    page_html = (STAFF / "index.html").read_text(encoding="utf-8")
    assert '<script type="module" src="/staff/console.js"></script>' in page_html
    modules = _imported("console.js")
    assert len(modules) > 1  # the console is split into modules
    async with gateway_factory() as client:
        page = await client.get("/staff")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        for name in sorted(modules):
            response = await client.get(f"/staff/{name}")
            assert response.status_code == 200, name
            assert response.headers["content-type"].startswith("text/javascript"), name
        missing = await client.get("/staff/nothing.js")
    assert missing.status_code == 404
    assert "nothing.js" in missing.json()["error"]["message"]
