"""DuckDB persistence (see :class:`Store`). The only package that speaks SQL."""

from __future__ import annotations

from riskcore._lazy import lazy_exports

#: public name -> module that defines it (imported on first use, the policy of every riskcore package)
_LAZY: dict[str, str] = {
    "DatasetRecord": "riskcore.store.core",
    "RunRecord": "riskcore.store.core",
    "Store": "riskcore.store.core",
    "default_db_path": "riskcore.store.core",
    "DatabaseError": "riskcore.store.engine",
    "StoreBusyError": "riskcore.store.engine",
    "StoreCorruptError": "riskcore.store.engine",
    "StoreReadOnlyError": "riskcore.store.engine",
    "link_runs": "riskcore.store.groups",
    "list_child_runs": "riskcore.store.groups",
    "list_top_runs": "riskcore.store.groups",
    "STORE_ERRORS": "riskcore.store.engine",
}

__all__ = [
    "Store", "RunRecord", "DatasetRecord", "StoreBusyError", "StoreCorruptError", "StoreReadOnlyError",
    "DatabaseError", "STORE_ERRORS", "default_db_path",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
