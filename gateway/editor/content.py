"""The content writer: a change set's edits applied to the content files, as editors would
write them by hand (``nlu_data/README.md``), so a published change is an ordinary, readable
diff in the repository.

- Examples are appended to their topic's block in ``nlu_data/<topic>.yml`` (the Swedish
  block, or the one with ``metadata: language: en``), one ``- text`` line each.
- Answer edits replace the ``text`` of the Swedish and English variation and the source's
  ``url``, ``owner`` and ``checked`` lines; a changed text clears ``reviewed_by`` and
  ``reviewed`` (the review was of the old text). The result is parsed again and compared
  with what was asked, so a file the writer does not understand is refused, never mangled.
- ``stage`` copies ``config.yml``, ``bot/`` and ``nlu_data/`` of the content root into a
  staging directory and applies a change set there; ``diff`` compares it with the live files.
- ``commit`` and ``restore`` write a published change (or a rollback) into the content
  root's git history.
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gateway.editor import new_topic
from gateway.errors import ConflictError, GatewayError, NotFoundError
from scripts.data_hash import INPUTS, input_files

ANSWER_FIELDS = ("text_sv", "text_en", "url", "owner", "checked")
INTENT_LINE = re.compile(r"^- intent:\s*(\S+)\s*$")
VARIATION = re.compile(r"^  - text:")


class ContentError(GatewayError):
    """The content files cannot take this change as they are."""

    status = 422
    code = "content_error"


@dataclass
class ChangeContent:
    """What a change set changes: examples per (topic, language) and answer edits per topic."""

    examples: list[tuple[str, str, str]] = field(default_factory=list)  # topic, language, text
    answers: dict[str, dict[str, str]] = field(default_factory=dict)
    new_topics: dict[str, dict[str, object]] = field(default_factory=dict)  # see tables.change_topics


def topic_file(nlu_dir: Path, topic: str) -> Path:
    """The file whose ``nlu:`` has ``- intent: <topic>``."""
    for path in sorted(nlu_dir.glob("*.yml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = INTENT_LINE.match(line)
            if match and match.group(1) == topic:
                return path
    raise NotFoundError(f"Ämnet '{topic}' finns inte i innehållet. / Topic '{topic}' does not exist.")


def topics(nlu_dir: Path) -> list[str]:
    found = {m.group(1) for path in nlu_dir.glob("*.yml")
             for m in map(INTENT_LINE.match, path.read_text(encoding="utf-8").splitlines()) if m}
    return sorted(t for t in found if t.startswith("faq/"))


def add_examples(text: str, topic: str, language: str, examples: list[str]) -> str:
    """``text`` (a topic file) with ``examples`` appended to the topic's block in ``language``."""
    lines = text.splitlines()
    block_start: int | None = None
    i = 0
    while i < len(lines):
        match = INTENT_LINE.match(lines[i])
        if match and match.group(1) == topic:
            end = i + 1
            while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
                end += 1
            body = lines[i + 1:end]
            lang = "sv"
            for j, line in enumerate(body):
                if line.strip() == "metadata:" and j + 1 < len(body):
                    m = re.match(r"^\s+language:\s*(\w+)", body[j + 1])
                    if m:
                        lang = m.group(1)
            if lang == language:
                block_start = i
                last_example = max((i + 1 + j for j, line in enumerate(body)
                                    if line.startswith("    - ")), default=None)
                if last_example is None:
                    raise ContentError(f"Blocket för {topic} ({language}) har inga exempel att lägga till efter.")
                new = [f"    - {e}" for e in examples]
                lines[last_example + 1:last_example + 1] = new
                break
            i = end
            continue
        i += 1
    if block_start is None:
        raise ContentError(f"Ämnet {topic} har inget block med exempel på språket '{language}'.")
    return "\n".join(lines) + "\n"


def _variation_language(item: dict[str, Any]) -> str:
    for cond in item.get("condition") or []:
        if isinstance(cond, dict) and cond.get("name") == "language":
            return str(cond.get("value"))
    return "sv"


def answer_fields(text: str, topic: str) -> dict[str, str]:
    """The editable fields of a topic's answer as the file has them."""
    content = yaml.safe_load(text) or {}
    variations = (content.get("responses") or {}).get(f"utter_{topic}") or []
    fields: dict[str, str] = {}
    for item in variations:
        if not isinstance(item, dict):
            continue
        lang = _variation_language(item)
        fields[f"text_{lang}"] = str(item.get("text") or "")
        source = ((item.get("metadata") or {}).get("source")) or {}
        if lang == "sv":
            for key in ("url", "owner", "checked", "title", "reviewed_by", "reviewed"):
                fields[key] = str(source.get(key) or "")
    return fields


def edit_answer(text: str, topic: str, edits: dict[str, str]) -> str:
    """``text`` (a topic file) with the answer fields in ``edits`` replaced."""
    before = answer_fields(text, topic)
    if "text_sv" not in before:
        raise ContentError(f"Ämnet {topic} har inget svar (utter_{topic}) i den här filen.")
    texts_changed = any(k in edits and edits[k] != before.get(k) for k in ("text_sv", "text_en"))
    lines = text.splitlines()
    header = next((n for n, line in enumerate(lines) if line.strip() == f"utter_{topic}:"), None)
    if header is None:
        raise ContentError(f"Svaret utter_{topic} står inte i den form editorn kan skriva.")
    end = next((n for n in range(header + 1, len(lines))
                if lines[n].strip() and not lines[n].startswith("  ")), len(lines))
    starts = [n for n in range(header + 1, end) if VARIATION.match(lines[n])] + [end]
    for start, stop in zip(starts, starts[1:], strict=False):
        lang = "en" if any(re.search(r"value:\s*en\b", lines[n]) for n in range(start, stop)) else "sv"
        key = f"text_{lang}"
        if key in edits:
            lines[start] = "  - text: " + json.dumps(edits[key], ensure_ascii=False)
        for name in ("url", "owner", "checked", *(("reviewed_by", "reviewed") if texts_changed else ())):
            value = edits.get(name, "" if name in ("reviewed_by", "reviewed") else None)
            if value is None:
                continue
            for n in range(start, stop):
                m = re.match(rf"^(\s+){name}:\s", lines[n])
                if m:
                    lines[n] = f"{m.group(1)}{name}: {json.dumps(value, ensure_ascii=False)}"
    result = "\n".join(lines) + "\n"
    after = answer_fields(result, topic)
    for key, value in edits.items():
        if after.get(key) != value:
            raise ContentError(f"Svaret för {topic} kunde inte skrivas ({key}); ändra filen för hand.")
    return result


def apply(nlu_dir: Path, change: ChangeContent) -> list[Path]:
    """Apply ``change`` to the topic files under ``nlu_dir``; the files written."""
    written: dict[Path, str] = {}

    def current(path: Path) -> str:
        return written.get(path) or path.read_text(encoding="utf-8")

    for topic, fields in change.new_topics.items():
        path = new_topic.file_name(nlu_dir, topic)
        if path.exists() or topic in topics(nlu_dir):
            raise ContentError(f"Ämnet {topic} (eller filen {path.name}) finns redan; välj ett annat namn.")
        raw = fields.get("examples")
        written_examples = [(str(e[0]), str(e[1])) for e in raw if isinstance(e, list | tuple) and len(e) == 2] \
            if isinstance(raw, list) else []
        assigned = [(lang, text) for t, lang, text in change.examples if t == topic]
        written[path] = new_topic.render(topic, {k: str(fields.get(k) or "") for k in new_topic.FIELDS},
                                         assigned + written_examples, str(fields.get("author") or ""),
                                         dt.date.fromisoformat(str(fields.get("checked"))))
    grouped: dict[tuple[str, str], list[str]] = {}
    for topic, language, example in change.examples:
        if topic not in change.new_topics:
            grouped.setdefault((topic, language), []).append(example)
    for (topic, language), examples in grouped.items():
        path = topic_file(nlu_dir, topic)
        written[path] = add_examples(current(path), topic, language, examples)
    for topic, edits in change.answers.items():
        path = topic_file(nlu_dir, topic)
        written[path] = edit_answer(current(path), topic, edits)
    for path, text in written.items():
        yaml.safe_load(text)  # never write what does not parse
        path.write_text(text, encoding="utf-8")
    return list(written)


def stage(content_root: Path, staging: Path, change: ChangeContent) -> None:
    """A copy of the model's inputs under ``staging`` with ``change`` applied."""
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for name in input_files(content_root):
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(content_root / name, target)
    apply(staging / "nlu_data", change)


def diff(content_root: Path, staging: Path) -> str:
    """A unified diff of the staged inputs against the live ones."""
    names = sorted(set(input_files(content_root)) | set(input_files(staging)))
    out: list[str] = []
    for name in names:
        old = (content_root / name).read_text(encoding="utf-8").splitlines(keepends=True) \
            if (content_root / name).exists() else []
        new = (staging / name).read_text(encoding="utf-8").splitlines(keepends=True) \
            if (staging / name).exists() else []
        out.extend(difflib.unified_diff(old, new, f"a/{name}", f"b/{name}"))
    return "".join(out)


def file_diff(name: str, old: str, new: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{name}", f"b/{name}"))


# ---- git ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Person:
    name: str
    email: str

    @property
    def ident(self) -> str:
        return f"{self.name} <{self.email}>"


def _git(root: Path, *args: str, identity: Person | None = None) -> str:
    config = ["-c", f"user.name={identity.name}", "-c", f"user.email={identity.email}"] if identity else []
    done = subprocess.run(["git", *config, *args], cwd=root, capture_output=True, text=True, timeout=60,
                          check=False)
    if done.returncode != 0:
        raise ConflictError(f"git {args[0]} i innehållsmappen misslyckades: {done.stderr.strip()[-400:]}")
    return done.stdout.strip()


def head(content_root: Path) -> str | None:
    """The commit the content files on disk are, or None (not a git clone, or changed since)."""
    try:
        if _git(content_root, "status", "--porcelain", "--", *INPUTS):
            return None
        return _git(content_root, "rev-parse", "HEAD")
    except (ConflictError, OSError, subprocess.SubprocessError):
        return None


def publish_files(content_root: Path, staging: Path) -> None:
    """Copy the staged inputs that differ over the content root's (removed ones removed)."""
    live, staged = set(input_files(content_root)), set(input_files(staging))
    for name in staged:
        source, target = staging / name, content_root / name
        if not target.exists() or target.read_bytes() != source.read_bytes():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for name in live - staged:
        (content_root / name).unlink()


def commit(content_root: Path, message: str, author: Person, committer: Person) -> str:
    """Commit the content inputs as ``author`` (``committer`` commits); the new commit's hash."""
    present = [p for p in INPUTS if (content_root / p).exists()]
    _git(content_root, "add", "-A", "--", *present)
    _git(content_root, "commit", "--no-verify", f"--author={author.ident}", "-m", message, "--", *present,
         identity=committer)
    return _git(content_root, "rev-parse", "HEAD")


def restore(content_root: Path, commit_id: str, message: str, by: Person) -> str:
    """The content inputs as of ``commit_id``, as a new commit; its hash."""
    if not re.fullmatch(r"[0-9a-f]{7,64}", commit_id):
        raise ContentError(f"'{commit_id[:64]}' är ingen commit.")
    present = [p for p in INPUTS if (content_root / p).exists()]
    _git(content_root, "rm", "-r", "-q", "--ignore-unmatch", "--", *present)
    _git(content_root, "checkout", commit_id, "--", *INPUTS)
    status = _git(content_root, "status", "--porcelain", "--", *INPUTS)
    if not status:
        return _git(content_root, "rev-parse", "HEAD")
    _git(content_root, "commit", "--no-verify", f"--author={by.ident}", "-m", message, identity=by)
    return _git(content_root, "rev-parse", "HEAD")
