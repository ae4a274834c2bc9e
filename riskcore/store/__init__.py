"""DuckDB persistence (see :class:`Store`). The only package that speaks SQL."""

from __future__ import annotations

from riskcore._lazy import lazy_exports, lazy_table

#: public name -> module that defines it (imported on first use, the policy of every riskcore package)
_LAZY: dict[str, str] = lazy_table({
    "riskcore.store.core": "DatasetRecord RunRecord Store default_db_path",
    "riskcore.store.engine": "DatabaseError StoreBusyError StoreCorruptError StoreReadOnlyError STORE_ERRORS",
    "riskcore.store.groups": "link_runs list_child_runs list_top_runs",
    "riskcore.kinds": "RunKind",
})

__all__ = [
    "Store", "RunRecord", "DatasetRecord", "StoreBusyError", "StoreCorruptError", "StoreReadOnlyError",
    "DatabaseError", "RunKind", "STORE_ERRORS", "default_db_path",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
