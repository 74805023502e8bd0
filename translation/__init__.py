"""Language identification, PII masking and machine translation for the citizen assistant.

A pure library: the gateway composes it through `translation.service.TranslationService`.
Importing it loads no model and reads no file; see docs/translation.md.
"""
