"""DuckDB persistence (see :class:`Store`). The only package that speaks SQL."""

from riskcore.store.core import DatasetRecord, RunRecord, Store, StoreBusyError, default_db_path
from riskcore.store.groups import link_runs, list_child_runs, list_top_runs  # noqa: F401 - run groups

__all__ = ["Store", "RunRecord", "DatasetRecord", "StoreBusyError", "default_db_path"]
