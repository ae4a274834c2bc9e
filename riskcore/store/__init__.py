"""DuckDB persistence (see :class:`Store`). The only package that speaks SQL."""

from riskcore.kinds import RunKind
from riskcore.store.core import DatasetRecord, RunRecord, Store, default_db_path
from riskcore.store.engine import DatabaseError, StoreBusyError, StoreCorruptError, StoreReadOnlyError
from riskcore.store.groups import link_runs, list_child_runs, list_top_runs  # noqa: F401 - run groups

#: what a page catches around store calls: the store's own errors and any DuckDB error
STORE_ERRORS: tuple[type[BaseException], ...] = (StoreBusyError, StoreCorruptError, StoreReadOnlyError, DatabaseError)

__all__ = ["Store", "RunRecord", "DatasetRecord", "StoreBusyError", "StoreCorruptError", "StoreReadOnlyError",
           "DatabaseError", "RunKind", "STORE_ERRORS", "default_db_path"]
