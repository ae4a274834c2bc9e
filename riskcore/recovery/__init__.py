"""Risk-state snapshots and recovery (PRD §5.2): see :mod:`riskcore.recovery.core`."""

from riskcore.recovery.core import (
    FORMAT_VERSION,
    SCHEDULE_EVERY_S,
    SCHEDULE_KEEP,
    STALE_AFTER,
    RecoveryWarning,
    RestoreResult,
    RiskRuntime,
    SnapshotInfo,
    SnapshotKind,
    SnapshotScheduler,
    TeamRef,
    delete_snapshot,
    emergency_backup,
    list_snapshots,
    restore,
    snapshot,
)

__all__ = ["FORMAT_VERSION", "STALE_AFTER", "SnapshotKind", "TeamRef", "RiskRuntime", "SnapshotInfo",
           "RestoreResult", "RecoveryWarning", "snapshot", "emergency_backup", "restore", "list_snapshots",
           "delete_snapshot", "SnapshotScheduler", "SCHEDULE_EVERY_S", "SCHEDULE_KEEP"]
