"""The model registry: translation/models.yml as typed objects.

`ModelRegistry.load` validates the whole file up front, so a typo is a clear error at
start-up rather than a failed translation later. It reads files only when called.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from translation.errors import LanguageError, RegistryError

DEFAULT_REGISTRY = Path(__file__).with_name("models.yml")
ENGINES = ("ct2", "transformers")
TIERS = ("good", "poor")
DIRECTIONS = ("ltr", "rtl")


@dataclass(frozen=True)
class ModelSpec:
    """One OPUS-MT model: where it comes from and where its files live on disk."""

    name: str
    hf_id: str
    revision: str
    engine: str
    path: Path  # <models_dir>/<name>

    @property
    def hf_dir(self) -> Path:
        return self.path / "hf"

    @property
    def ct2_dir(self) -> Path:
        return self.path / "ct2"

    def has_transformers_files(self) -> bool:
        return (self.hf_dir / "config.json").is_file() and (self.hf_dir / "source.spm").is_file()

    def has_ct2_files(self) -> bool:
        return all((self.ct2_dir / f).is_file() for f in ("model.bin", "source.spm", "target.spm"))

    def available_engine(self) -> str | None:
        """The engine that can run now: the configured one, else the other, else None."""
        order = (self.engine, *(e for e in ENGINES if e != self.engine))
        for engine in order:
            if engine == "ct2" and self.has_ct2_files():
                return engine
            if engine == "transformers" and self.has_transformers_files():
                return engine
        return None

    def resolved_revision(self) -> str:
        """The commit `make models` downloaded (REVISION file), else the configured revision."""
        marker = self.path / "REVISION"
        if marker.is_file():
            return marker.read_text(encoding="utf-8").strip() or self.revision
        return self.revision


@dataclass(frozen=True)
class Hop:
    model: str
    token: str | None = None  # ">>xxx<<" target-language token of a multi-target model


@dataclass(frozen=True)
class LanguageSpec:
    code: str
    name: str
    english: str
    dir: str
    tier: str
    native: bool
    to_sv: tuple[Hop, ...]
    from_sv: tuple[Hop, ...]


@dataclass(frozen=True)
class QualitySettings:
    min_mean_logprob: float = -2.5
    min_length_ratio: float = 0.25
    max_length_ratio: float = 4.0
    check_language: bool = True


@dataclass(frozen=True)
class ModelRegistry:
    version: str
    models: Mapping[str, ModelSpec]
    languages: Mapping[str, LanguageSpec]
    quality: QualitySettings

    @classmethod
    def load(cls, path: Path | None = None, models_dir: Path = Path("models")) -> ModelRegistry:
        path = path or DEFAULT_REGISTRY
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise RegistryError(
                f"Model registry {str(path)!r} cannot be read ({exc.strerror}). "
                "Pass an existing file or use the default translation/models.yml."
            ) from exc
        if not isinstance(data, dict):
            raise RegistryError(f"Model registry {str(path)!r} must be a YAML mapping.")
        return cls.from_dict(data, models_dir, source=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], models_dir: Path, source: str = "registry") -> ModelRegistry:
        models: dict[str, ModelSpec] = {}
        for name, raw in (data.get("models") or {}).items():
            engine = str(raw.get("engine", "ct2"))
            if engine not in ENGINES:
                raise RegistryError(
                    f"{source}: model {name!r} has engine {engine!r}. Allowed: {', '.join(ENGINES)}."
                )
            if not raw.get("hf_id"):
                raise RegistryError(f"{source}: model {name!r} needs an hf_id.")
            models[name] = ModelSpec(
                name=name,
                hf_id=str(raw["hf_id"]),
                revision=str(raw.get("revision", "main")),
                engine=engine,
                path=models_dir / name,
            )
        languages: dict[str, LanguageSpec] = {}
        for code, raw in (data.get("languages") or {}).items():
            languages[code] = _language(code, raw, models, source)
        if "sv" not in languages:
            raise RegistryError(f"{source}: the languages list must include 'sv'.")
        quality = QualitySettings(**(data.get("quality") or {}))
        return cls(str(data.get("version", "unversioned")), models, languages, quality)

    def language(self, code: str) -> LanguageSpec:
        try:
            return self.languages[code]
        except KeyError:
            raise LanguageError(
                f"Language {code!r} is not offered. Offered: {', '.join(self.languages)}. "
                "Add it to translation/models.yml."
            ) from None

    def route(self, src: str, tgt: str) -> tuple[Hop, ...]:
        """The hops translating `src` → `tgt`; one side must be Swedish. Empty if src == tgt."""
        if src == tgt:
            return ()
        if tgt == "sv":
            return self.language(src).to_sv
        if src == "sv":
            return self.language(tgt).from_sv
        raise LanguageError(
            f"Pair {src}->{tgt} is not supported: one side must be 'sv'. "
            "Translate through Swedish (to_swedish, then from_swedish)."
        )


def _language(code: str, raw: Mapping[str, Any], models: Mapping[str, ModelSpec], source: str) -> LanguageSpec:
    direction = str(raw.get("dir", "ltr"))
    tier = str(raw.get("tier", "good"))
    if direction not in DIRECTIONS:
        raise RegistryError(f"{source}: language {code!r} has dir {direction!r}. Allowed: ltr, rtl.")
    if tier not in TIERS:
        raise RegistryError(f"{source}: language {code!r} has tier {tier!r}. Allowed: good, poor.")

    def hops(key: str) -> tuple[Hop, ...]:
        result: list[Hop] = []
        for item in raw.get(key) or ():
            hop = Hop(item) if isinstance(item, str) else Hop(str(item["model"]), item.get("token"))
            if hop.model not in models:
                raise RegistryError(
                    f"{source}: language {code!r} {key} uses model {hop.model!r}, which is not "
                    f"under models:. Known: {', '.join(sorted(models))}."
                )
            result.append(hop)
        if len(result) > 2:
            raise RegistryError(f"{source}: language {code!r} {key} has {len(result)} hops; at most 2.")
        return tuple(result)

    return LanguageSpec(
        code=code,
        name=str(raw.get("name", code)),
        english=str(raw.get("english", code)),
        dir=direction,
        tier=tier,
        native=bool(raw.get("native", False)),
        to_sv=hops("to_sv"),
        from_sv=hops("from_sv"),
    )
