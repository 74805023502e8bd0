"""The training-data hash: the one definition of "which content a model was trained on".

The Rasa model's inputs are ``config.yml`` and every ``*.yml`` / ``*.py`` file under
``bot/components``, ``bot/domain``, ``bot/data`` and ``nlu_data/`` (the files ``rasa train``
reads; the channel and the model puller in bot/ serve a model and are not inputs). Their hash names the trained model
(``var/models/model-<hash>.tar.gz``, scripts/train.sh), the evaluation report
(``data_hash`` in var/reports/eval.json, scripts/evaluate.py) and the release the gateway
reports on /om-ai and in every basis record (gateway/catalogue.py). All of them call this
module, so the three can never disagree about the same files.

The recipe is ``sha256sum`` over the files in C (byte) order, then ``sha256`` of that listing,
first 16 hex digits: what train.sh computed with find/sort/sha256sum before this module existed,
so models trained then keep their names.

The content release is the git commit that last changed those files, with its date, and
whether the working tree has changes on top of it. It needs ``git`` and a clone (a fresh
clone works); without them it is reported as unknown, never guessed from file times.

Standard library only: both Python environments (gateway and Rasa) and train.sh use it.

    python scripts/data_hash.py            # the hash
    python scripts/data_hash.py --release  # hash, commit, date, modified (JSON)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bot/channel.py and bot/model_puller.py serve a model; they are not part of one.
INPUTS = ("config.yml", "bot/components", "bot/domain", "bot/data", "nlu_data")
SUFFIXES = (".yml", ".py")
LENGTH = 16


def input_files(root: Path = ROOT) -> list[str]:
    """The model's input files, relative to ``root``, in C (byte) order.

    Like ``find config.yml bot nlu_data -type f (-name '*.yml' -o -name '*.py')
    -not -path '*/__pycache__/*'``: regular files only (no symlinks), no __pycache__.
    """
    names: list[str] = []
    for top in INPUTS:
        path = root / top
        if path.is_file() and not path.is_symlink():
            names.append(top)
            continue
        if not path.is_dir():
            continue
        for directory, subdirs, files in os.walk(path):
            subdirs[:] = [d for d in subdirs if d != "__pycache__"]
            for name in files:
                full = Path(directory) / name
                if full.suffix in SUFFIXES and full.is_file() and not full.is_symlink():
                    names.append(full.relative_to(root).as_posix())
    return sorted(names, key=lambda n: n.encode())


def training_data_hash(root: Path = ROOT) -> str:
    """16 hex digits naming the content the model is trained on (see the module docstring)."""
    listing = "".join(
        f"{hashlib.sha256((root / name).read_bytes()).hexdigest()}  {name}\n"
        for name in input_files(root)
    )
    return hashlib.sha256(listing.encode()).hexdigest()[:LENGTH]


@dataclass(frozen=True)
class ContentRelease:
    """Which committed version of the content files is on disk."""

    data_hash: str
    commit: str | None  # full hash of the last commit that changed the inputs; None without git
    date: str | None  # that commit's date (ISO 8601, committer date)
    modified: bool | None  # True when the working tree differs from that commit; None without git

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def content_release(root: Path = ROOT) -> ContentRelease:
    """The training-data hash and the git commit of the content files (see the docstring)."""
    data_hash = training_data_hash(root)
    present = [top for top in INPUTS if (root / top).exists()]
    log = _git(root, "log", "-1", "--format=%H %cI", "--", *present) if present else None
    if not log:
        return ContentRelease(data_hash, None, None, None)
    commit, _, date = log.partition(" ")
    status = _git(root, "status", "--porcelain", "--untracked-files=all", "--", *present)
    modified = None if status is None else any(
        line[3:].strip('"').endswith(SUFFIXES) or line[3:].strip('"') in INPUTS
        for line in status.splitlines()
    )
    return ContentRelease(data_hash, commit, date or None, modified)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the training-data hash.")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--release", action="store_true", help="also the git commit of the content (JSON)")
    args = parser.parse_args(argv)
    if args.release:
        print(json.dumps(content_release(args.root).as_dict()))
    else:
        print(training_data_hash(args.root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
