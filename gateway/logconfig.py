"""The gateway process's log configuration: one handler on the root logger, whose formatter
writes an exception as its types and places, never its message.

Citizens' text never goes to ordinary logs. The gateway's own modules log ids, codes, sizes
and latencies, but a traceback ends with the exception's message, and a message can carry
data: a database error quotes its statement's parameters, a ``ValueError`` its input. Uvicorn
logs the full traceback of every exception Starlette re-raises after our 503, and libraries
log with ``exc_info`` as they like. So every record that reaches the handler has its
exception written as, e.g.::

    [exception message withheld] IntegrityError at turn.py:290 in handle < base.py:1977 in ...;
    caused by IntegrityError at ...

Configured only by the entrypoint (``gateway.main.run``); uvicorn is told not to install
its own handlers, so its records come here too.
"""
from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
FRAMES = 6  # frames named per exception: half innermost, half innermost of our own code
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def _frames(exc: BaseException) -> list[traceback.FrameSummary]:
    """The innermost frames, and the innermost of our own code (not an installed library),
    innermost first."""
    frames = list(traceback.extract_tb(exc.__traceback__))
    ours = [i for i, f in enumerate(frames) if "site-packages" not in f.filename][-FRAMES // 2:]
    chosen = sorted(set(range(len(frames))[-FRAMES // 2:]) | set(ours), reverse=True)
    return [frames[i] for i in chosen]


def describe(exc: BaseException) -> str:
    """``Type at file:line in function < ...`` for ``exc`` and its causes; no messages."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(parts) < 5:
        seen.add(id(current))
        where = " < ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in _frames(current))
        parts.append(f"{type(current).__name__} at {where}" if where else type(current).__name__)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return "[exception message withheld] " + "; caused by ".join(parts)


class WithheldExceptionFormatter(logging.Formatter):
    """A formatter that writes exceptions with :func:`describe`; stack info is dropped too."""

    def formatException(self, ei: ExcInfo) -> str:  # noqa: N802 - logging's name
        return describe(ei[1]) if ei[1] is not None else ""

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return "[stack withheld]"

    def format(self, record: logging.LogRecord) -> str:
        cached = record.exc_text  # another handler may have cached the full traceback
        record.exc_text = None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached


def configure(level: str | int = "INFO", stream: TextIO | None = None) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) through the withholding formatter."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(WithheldExceptionFormatter(FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
