"""The repository says only true things about itself.

- The licence that pyproject.toml names is in LICENSE, in full.
- `make help` names only targets the Makefile has; `make lint` runs ruff with the
  project's rules, and `make test` runs it.
- Every file, command and page that README.md and the documents in docs/ point to exists
  (nothing outside the repository).
- docs/riktlinje.md answers each requirement of the municipality's AI guideline and names
  what the municipality must still decide; the accessibility statement is marked a draft.
- Tests that need Redis or PostgreSQL fail, with a message, when the server is not there.
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("README.md", "docs/architecture.md", "docs/module-map.md", "docs/riktlinje.md",
        "docs/tillganglighetsredogorelse.md", "docs/metrics.md")
# Made by `make setup`, `make run` or `make models`, so absent from a fresh clone; .gitignore lists them.
RUNTIME = ("var", "models", ".venv", ".venv-rasa")


# ---- licence ----------------------------------------------------------------------------
EUPL_ARTICLES = [
    "Definitions", "Scope of the rights granted by the Licence", "Communication of the Source Code",
    "Limitations on copyright", "Obligations of the Licensee", "Chain of Authorship",
    "Disclaimer of Warranty", "Disclaimer of Liability", "Additional agreements",
    "Acceptance of the Licence", "Information to the public", "Termination of the Licence",
    "Miscellaneous", "Jurisdiction", "Applicable Law",
]
# SHA-256 of the official English EUPL v. 1.2 text with all whitespace runs made one space:
# line breaks and indentation may change, not one word, quote or dash.
EUPL_1_2_WORDS_SHA256 = "7481f0517e025d6dbba598a38d4600f50902b8b1ce3db7412ad0110651f8b205"


def test_licence_file_is_the_full_eupl_1_2_that_pyproject_names() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == {"text": "EUPL-1.2"}
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.split()[:5] == ["EUROPEAN", "UNION", "PUBLIC", "LICENCE", "v."]
    assert "EUPL © the European Union 2007, 2016" in text
    headings = re.findall(r"^(\d+)\. (.+)$", text, flags=re.MULTILINE)
    assert headings == [(str(n), title) for n, title in enumerate(EUPL_ARTICLES, start=1)]
    assert "‘Compatible Licences’ according to Article 5 EUPL are:" in text
    words = " ".join(text.split())
    assert hashlib.sha256(words.encode("utf-8")).hexdigest() == EUPL_1_2_WORDS_SHA256


# ---- Makefile -----------------------------------------------------------------------------
def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, flags=re.MULTILINE))


def help_targets() -> list[str]:
    out = subprocess.run(["make", "-s", "--no-print-directory", "help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=30, check=True).stdout
    names: list[str] = []
    for line in out.splitlines():
        if line.startswith("make "):
            names.append(line.split()[1])
        elif line.startswith("Also:"):
            names += [n for n in re.split(r"[,\s]+", line.removeprefix("Also:")) if n]
    return names


def test_make_help_lists_only_targets_that_the_makefile_has() -> None:
    listed = help_targets()
    assert {"run", "test", "lint"} <= set(listed)
    missing = [name for name in listed if name not in makefile_targets()]
    assert not missing, f"`make help` lists targets the Makefile does not have: {missing}"


def test_make_lint_runs_ruff_with_the_projects_rules_and_make_test_runs_it() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE)
    assert recipe and "ruff check" in recipe.group(1)
    assert re.search(r"^make .*\blint\b", (ROOT / "scripts/test.sh").read_text(encoding="utf-8"), re.MULTILINE)
    pinned = re.search(r"^ruff==(\S+)$", (ROOT / "requirements/app.txt").read_text(encoding="utf-8"), re.MULTILINE)
    assert pinned, "ruff is pinned in requirements/app.txt"
    ruff = ROOT / ".venv" / "bin" / "ruff"
    version = subprocess.run([str(ruff), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.split() == ["ruff", pinned.group(1)]
    # A mutable default argument (bugbear, B006) and an unsorted import block (isort, I001):
    # neither is in ruff's default rules, so only the project's configuration catches them.
    source = "import sys\nimport os\n\n\ndef f(x=[]):\n    return x, os, sys\n"
    result = subprocess.run([str(ruff), "check", "--output-format", "concise", "--stdin-filename",
                             "gateway/example.py", "-"], cwd=ROOT, input=source,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "B006" in result.stdout and "I001" in result.stdout


# ---- documents point only to what exists --------------------------------------------------
def root_entries() -> set[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return {line.split("/", 1)[0] for line in listed.splitlines() if line}


def served_paths() -> Callable[[str], bool]:
    """Whether the gateway has a route for a path (any method), asked of its own router."""
    from starlette.routing import Match

    from gateway.main import create_app
    from gateway.settings import Settings

    app = create_app(Settings(environment="test"))

    def served(path: str) -> bool:
        scope = {"type": "http", "path": path, "root_path": "", "method": "GET", "headers": [],
                 "query_string": b""}
        return any(route.matches(scope)[0] != Match.NONE for route in app.router.routes)

    return served


def references(doc: str) -> list[str]:
    text = (ROOT / doc).read_text(encoding="utf-8")
    return re.findall(r"`([^`\n]+)`", text)


@pytest.mark.parametrize("doc", DOCS)
def test_every_file_command_and_page_a_document_names_exists(doc: str) -> None:
    entries, targets, served = root_entries(), makefile_targets(), served_paths()
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    problems: list[str] = []
    checked = 0
    for ref in references(doc):
        ref = ref.strip()
        if ref.startswith("../") or "/shared/" in ref:
            problems.append(f"{ref}: points outside the repository")
        elif ref.startswith("make "):
            for word in ref.split()[1:]:
                if re.fullmatch(r"[a-z][\w-]*", word):
                    checked += 1
                    if word not in targets:
                        problems.append(f"{ref}: the Makefile has no target {word!r}")
        elif re.fullmatch(r"(GET |POST )?/[\w\-/{}.]*(\?\S*)?", ref):
            path = ref.split()[-1].split("?")[0]
            checked += 1
            if not served(path):
                problems.append(f"{ref}: the gateway serves no such page or endpoint")
        elif (re.fullmatch(r"[\w.\-]+(/[\w.\-*<>]*)*(::\w+)?", ref)
              and ref.split("/")[0].split("::")[0] in entries | set(RUNTIME)):
            path, _, symbol = ref.partition("::")
            first = path.split("/")[0]
            checked += 1
            if first in RUNTIME:
                if f"{first}/" not in ignored and first not in ignored:
                    problems.append(f"{ref}: made at run time, but {first}/ is not in .gitignore")
                continue
            if "*" in path or "<" in path:
                if not list(ROOT.glob(re.sub(r"<[^>]+>", "*", path))):
                    problems.append(f"{ref}: no file matches")
                continue
            target = ROOT / path
            if not target.exists():
                problems.append(f"{ref}: no such file or folder")
            elif symbol and not re.search(rf"\b(def|class)\s+{symbol}\b|^{symbol}\s*[:=]",
                                          target.read_text(encoding="utf-8"), re.MULTILINE):
                problems.append(f"{ref}: {path} defines no {symbol}")
    assert checked, f"{doc} names no file, command or page at all"
    assert not problems, f"{doc}:\n" + "\n".join(problems)


def test_readme_points_to_the_architecture_document_and_the_licence() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`docs/architecture.md`" in readme and "`LICENSE`" in readme
    assert "../" not in readme


# ---- the AI guideline and the accessibility statement -----------------------------------
GUIDELINE = [
    "Syfte",
    "Vad som påverkade utfallet mest",
    "Kända snedvridningar och hur de kompenseras",
    "Spårbarhet till tidigare versioner",
    "Internt ansvar",
    "Informationssäkerhet och dataskydd",
    "Mänsklig kontroll",
    "Risker: snedvridning, otillräcklig träning och missbruk",
]
DECISIONS = ["systemägare", "rättslig grund", "konsekvensbedömning", "gallringsbeslut", "tillgänglighetsredogörelse"]


def sections(doc: str) -> dict[str, str]:
    text = (ROOT / doc).read_text(encoding="utf-8")
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def test_riktlinje_answers_every_requirement_with_a_place_and_a_decision_list() -> None:
    found = sections("docs/riktlinje.md")
    for heading in GUIDELINE:
        matching = [body for title, body in found.items() if heading.lower() in title.lower()]
        assert matching, f"docs/riktlinje.md has no section '… {heading}'"
        body = matching[0]
        assert "**Så uppfyller produkten kravet:**" in body and "**Kommunen behöver:**" in body, heading
        assert re.search(r"`[^`]+`", body), f"'{heading}' names no file, command or page"
    decisions = next(body for title, body in found.items() if title.startswith("Kommunen beslutar"))
    for decision in DECISIONS:
        assert decision in decisions.lower(), f"the decision list does not name {decision!r}"


# The sections of Digg's model accessibility statement (tillgänglighetsredogörelse).
DIGG_HEADINGS = [
    "Hur tillgänglig är webbplatsen?",
    "Vad kan du göra om du inte kan använda delar av webbplatsen?",
    "Rapportera brister i webbplatsens tillgänglighet",
    "Tillsyn",
    "Teknisk information om webbplatsens tillgänglighet",
    "Innehåll som inte är tillgängligt",
    "Hur vi testat webbplatsen",
]


def test_accessibility_statement_is_a_draft_built_from_the_widget_tests() -> None:
    text = (ROOT / "docs/tillganglighetsredogorelse.md").read_text(encoding="utf-8")
    assert text.startswith("# Utkast"), "the statement says first that it is a draft"
    widget_tests = (ROOT / "tests/widget/test_widget.py").read_text(encoding="utf-8")
    named = re.findall(r"`tests/widget/test_widget\.py::(\w+)`", text)
    assert named, "the statement names the tests it is built from"
    for test in named:
        assert f"def {test}(" in widget_tests, f"{test} is not a test in tests/widget/test_widget.py"
    for heading in DIGG_HEADINGS:
        assert f"## {heading}" in text, f"missing section from DIGG's model statement: {heading}"


# ---- tests that need real servers ---------------------------------------------------------
def test_a_test_that_needs_redis_or_postgresql_fails_with_a_message_when_the_server_is_missing(tmp_path: Path) -> None:
    (tmp_path / "test_needs_servers.py").write_text(textwrap.dedent("""
        from tests.services import postgres_url, redis_url

        def test_redis(redis_url):
            pass

        def test_postgres(postgres_url):
            pass
    """), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TEST_REDIS_URL": "redis://127.0.0.1:1/0",
           "TEST_POSTGRES_ADMIN_URL": "postgresql://postgres@127.0.0.1:1/postgres"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         "-c", os.devnull, str(tmp_path / "test_needs_servers.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    out = result.stdout
    assert result.returncode == 1, out
    # A fixture that fails makes its test an error: the run fails, nothing is skipped.
    assert "2 errors" in out and "skipped" not in out, out
    assert "Redis is not reachable at redis://127.0.0.1:1/0" in out and "-m 'not redis'" in out
    assert "PostgreSQL is not reachable at postgresql://postgres@127.0.0.1:1/postgres" in out


def test_no_test_skips_quietly_when_redis_or_postgresql_is_missing() -> None:
    quiet = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"pytest\.(skip|importorskip)\(", line) and re.search(r"redis|postgres|psycopg", line, re.I):
                quiet.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not quiet, "these skip instead of failing:\n" + "\n".join(quiet)
