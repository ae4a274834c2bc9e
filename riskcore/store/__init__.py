"""DuckDB persistence (see :class:`Store`). The only package that speaks SQL."""

from riskcore.store.core import DatasetRecord, RunRecord, Store, StoreBusyError, default_db_path

__all__ = ["Store", "RunRecord", "DatasetRecord", "StoreBusyError", "default_db_path"]
