"""The auditor's view of the transparency log: search and export basis records
(``records``), figures per topic, language and day (``counts``) and the chain check
(``chains``, ``make audit-verify``).

Everything here reads ``basis_records`` (and ``feedback``, ``messages``, ``aggregates``);
nothing writes to them. Not to be confused with the staff audit trail
(``gateway.audit_trail``, table ``audit_events``), which records who did what; the routes
that export records or run the check write there.
"""
from __future__ import annotations

from gateway.basis_queries.chains import VerifyResult, cli_verify, verify, verify_conversation
from gateway.basis_queries.counts import Counts, Figures, counted_rows, figures, record_counts
from gateway.basis_queries.records import (
    MAX_EXPORT,
    ExportTooLargeError,
    RecordFilter,
    as_utc,
    day_bounds,
    export_records,
    search,
    to_csv,
    to_jsonl,
)

__all__ = [
    "MAX_EXPORT",
    "Counts",
    "ExportTooLargeError",
    "Figures",
    "RecordFilter",
    "VerifyResult",
    "as_utc",
    "cli_verify",
    "counted_rows",
    "day_bounds",
    "export_records",
    "figures",
    "record_counts",
    "search",
    "to_csv",
    "to_jsonl",
    "verify",
    "verify_conversation",
]
