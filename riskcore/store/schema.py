"""Schema of the riskcore DuckDB file, as ordered migrations.

Each migration is a version number and the statements that bring the schema from
the previous version to it. They run in one transaction when a :class:`Store`
opens a file whose ``schema_version`` is behind: every version the file has not
recorded, in ascending order (so a gap left by a branch that numbered its migration
ahead, e.g. 4 before 3, is filled when 3 arrives). Append new migrations; never
edit an applied one.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, tuple[str, ...]]] = [
    (
        1,
        (
            """CREATE TABLE runs (
                run_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, name VARCHAR,
                created_at TIMESTAMP NOT NULL, params_json VARCHAR, params_hash VARCHAR,
                seed BIGINT, summary_json VARCHAR, extra_json VARCHAR)""",
            """CREATE TABLE run_arrays (
                run_id VARCHAR NOT NULL, name VARCHAR NOT NULL, data BLOB NOT NULL,
                PRIMARY KEY (run_id, name))""",
            """CREATE TABLE datasets (
                dataset_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, source_name VARCHAR,
                created_at TIMESTAMP NOT NULL, n_rows BIGINT NOT NULL, start_date TIMESTAMP,
                end_date TIMESTAMP, checksum VARCHAR, meta_json VARCHAR)""",
            """CREATE TABLE dataset_rows (
                dataset_id VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, price DOUBLE NOT NULL,
                volume DOUBLE, fiat_flow DOUBLE)""",
            """CREATE TABLE param_sets (
                name VARCHAR PRIMARY KEY, created_at TIMESTAMP NOT NULL,
                params_json VARCHAR NOT NULL, params_hash VARCHAR NOT NULL, note VARCHAR)""",
            """CREATE TABLE decisions (
                decision_id VARCHAR PRIMARY KEY, created_at TIMESTAMP NOT NULL,
                event_type VARCHAR NOT NULL, status VARCHAR, latency_ms DOUBLE,
                record_json VARCHAR NOT NULL)""",
            """CREATE TABLE alerts (
                alert_id VARCHAR PRIMARY KEY, created_at TIMESTAMP NOT NULL, source VARCHAR,
                metric VARCHAR, severity VARCHAR, level VARCHAR, status VARCHAR,
                value DOUBLE, threshold DOUBLE, message VARCHAR, cleared_at TIMESTAMP,
                record_json VARCHAR)""",
            """CREATE TABLE ticks (
                feed_id VARCHAR NOT NULL, seq BIGINT NOT NULL, ts TIMESTAMP, price DOUBLE,
                record_json VARCHAR, PRIMARY KEY (feed_id, seq))""",
            """CREATE TABLE settings (
                key VARCHAR PRIMARY KEY, value_json VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL)""",
            "CREATE INDEX runs_kind ON runs (kind)",
            "CREATE INDEX dataset_rows_id ON dataset_rows (dataset_id)",
        ),
    ),
    (
        2,
        (
            # runs that belong to another run (the scenario runs of a stress report): pickers and the
            # Home page list the parent only (riskcore.store.groups)
            """CREATE TABLE run_groups (
                run_id VARCHAR PRIMARY KEY, parent_id VARCHAR NOT NULL)""",
            "CREATE INDEX run_groups_parent ON run_groups (parent_id)",
            # reports saved before this version list their scenario runs' ids in extra_json.run_ids
            """INSERT INTO run_groups
                SELECT DISTINCT ON (c.run_id) c.run_id, p.run_id FROM runs p JOIN runs c
                ON p.kind = 'peg_stress_report' AND c.run_id <> p.run_id
                AND strpos(p.extra_json, '"' || c.run_id || '"') > 0""",
        ),
    ),
    (
        3,
        (
            # the model registry of trained agent teams (riskcore.agents.registry, riskcore.store.models):
            # one row per (name, version), the tensors as safetensors bytes, one row per part
            """CREATE TABLE agent_models (
                name VARCHAR NOT NULL, version INTEGER NOT NULL, created_at TIMESTAMP NOT NULL,
                format_version INTEGER NOT NULL, content_hash VARCHAR NOT NULL,
                train_config_json VARCHAR NOT NULL, env_config_json VARCHAR NOT NULL,
                metrics_json VARCHAR, tags_json VARCHAR, active BOOLEAN NOT NULL DEFAULT FALSE,
                PRIMARY KEY (name, version))""",
            """CREATE TABLE agent_model_blobs (
                name VARCHAR NOT NULL, version INTEGER NOT NULL, part VARCHAR NOT NULL, data BLOB NOT NULL,
                PRIMARY KEY (name, version, part))""",
        ),
    ),
    (
        4,
        (
            # risk-state snapshots (riskcore.recovery): one row per snapshot, its arrays as .npy blobs;
            # a snapshot and its arrays are written in one transaction
            """CREATE TABLE snapshots (
                snapshot_id VARCHAR PRIMARY KEY, created_at TIMESTAMP NOT NULL, kind VARCHAR NOT NULL,
                reason VARCHAR, format_version INTEGER NOT NULL, n_bytes BIGINT NOT NULL,
                checksum VARCHAR NOT NULL, state_json VARCHAR NOT NULL)""",
            """CREATE TABLE snapshot_arrays (
                snapshot_id VARCHAR NOT NULL, name VARCHAR NOT NULL, data BLOB NOT NULL,
                PRIMARY KEY (snapshot_id, name))""",
            "CREATE INDEX snapshots_kind ON snapshots (kind, created_at)",
        ),
    ),
]

LATEST_VERSION = MIGRATIONS[-1][0]
