"""The translation package's one error hierarchy.

Messages name the value, what is allowed and what to do, e.g.
``Language 'xx' is not offered. Offered: sv, en, ar. Add it to translation/models.yml.``
"""

from __future__ import annotations


class TranslationError(Exception):
    """Base class of every error raised by the translation package."""


class LanguageError(TranslationError, ValueError):
    """A language code that is malformed or not offered."""


class RegistryError(TranslationError):
    """translation/models.yml (or another registry file) is missing or malformed."""


class ModelNotAvailableError(TranslationError):
    """A model's files are not on disk (run `make models` where there is internet)."""


class PlaceholderError(TranslationError):
    """A protected span did not come back from the engine exactly once."""
