"""Model registry of trained agent teams, in the DuckDB store (schema version 3).

An **entry** is one trained :class:`~riskcore.agents.mappo.Team` — the four actors and the
centralised critic with its value and risk-score heads (and the value normaliser) — with its
:class:`~riskcore.agents.mappo.TrainConfig`, :class:`~riskcore.agents.vec_env.EnvConfig`,
evaluation metrics, free tags and a content hash, under a name and a version (1, 2, … per name,
numbered inside the saving transaction, so concurrent saves never share a version).

Storage: each actor's state dict and the critic's (``critic.*`` and ``value_norm.*`` keys, the
layout of :meth:`~riskcore.agents.mappo.TrainingResult.save_weights`) are **safetensors** bytes in a
BLOB, one row per part (:mod:`riskcore.store.models`); safetensors holds tensors only, so loading an
entry cannot execute code.

Content hash: SHA-256 over the format version, the canonical JSON of both configs and, per part in
name order, the part name and its bytes. Metrics and tags are not hashed (they are annotations).

Checks on :meth:`ModelRegistry.load`, each an :class:`~riskcore.errors.InputError` that says which
and what to do: unknown name or version; an entry written by a newer registry format; a part
missing, truncated or not safetensors; a content hash that does not match (tampered); tensor shapes
that do not fit the current environment's spaces (the observation width ``OBS_DIM``, the global
state width ``STATE_DIM``, each agent's action head, the four risk scores) or the config's layers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch

from riskcore.agents import vec_env
from riskcore.agents.mappo import HEADS, Team, TrainConfig, TrainingResult
from riskcore.agents.policy import AgentName
from riskcore.agents.vec_env import AGENTS, EnvConfig
from riskcore.errors import InputError
from riskcore.portfolio.emergency import RISK_SCORE_NAMES
from riskcore.store import models as rows

__all__ = ["ModelRegistry", "RegistryEntry", "LoadedTeam", "FORMAT_VERSION", "content_hash", "team_parts"]

#: layout of an entry (parts, hash); a store entry with a larger number was written by a newer riskcore
FORMAT_VERSION = 1
CRITIC_PART = "critic"
#: the store schema version that added the registry tables (riskcore.store.schema)
REGISTRY_SCHEMA = 3


def _actor_part(agent: AgentName | str) -> str:
    return f"actor.{AgentName(agent).value}"


@dataclass(frozen=True)
class RegistryEntry:
    """An entry's metadata (no tensors)."""

    name: str
    version: int
    created_at: pd.Timestamp
    content_hash: str
    metrics: dict[str, Any]
    tags: tuple[str, ...]
    active: bool
    format_version: int = FORMAT_VERSION

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}" + (" (active)" if self.active else "")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "created_at": str(self.created_at),
                "content_hash": self.content_hash, "metrics": dict(self.metrics), "tags": list(self.tags),
                "active": self.active}

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame({"value": pd.Series(self.to_dict(), dtype=object)}).rename_axis("field")


@dataclass(frozen=True)
class LoadedTeam:
    """A team read back from the registry, checked; ready for the decision path (:meth:`policy_source`)."""

    entry: RegistryEntry
    team: Team
    train_config: TrainConfig
    env_config: EnvConfig
    meta: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        return self.entry.summary()


def team_parts(team: Team) -> dict[str, bytes]:
    """The team as safetensors bytes: one part per actor and one for the critic with the value normaliser."""
    from safetensors.torch import save

    def blob(state: Mapping[str, torch.Tensor]) -> bytes:
        return save({k: v.detach().cpu().contiguous() for k, v in sorted(state.items())})

    out = {_actor_part(name): blob(actor.state_dict()) for name, actor in team.actors.items()}
    crit = {f"critic.{k}": v for k, v in team.critic.state_dict().items()}
    crit.update({f"value_norm.{k}": v for k, v in team.value_norm.state_dict().items()})
    out[CRITIC_PART] = blob(crit)
    return out


def content_hash(parts: Mapping[str, bytes], train_config: Mapping[str, Any], env_config: Mapping[str, Any],
                 format_version: int = FORMAT_VERSION) -> str:
    """SHA-256 (hex) of the format version, both configs (canonical JSON) and every part (module notes)."""
    h = hashlib.sha256()
    h.update(f"riskcore-agent-team/{format_version}\n".encode())
    for cfg in (train_config, env_config):
        h.update(json.dumps(cfg, sort_keys=True, separators=(",", ":"), default=str).encode())
        h.update(b"\n")
    for name in sorted(parts):
        data = parts[name]
        h.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0")
        h.update(data)
    return h.hexdigest()


def _plain(d: Mapping[str, Any]) -> dict[str, Any]:
    """Configs as JSON-plain data (tuples → lists), the form that is hashed and stored."""
    return json.loads(json.dumps(dict(d), default=str))


def _metrics_dict(metrics: Any) -> dict[str, Any]:
    if metrics is None:
        return {}
    if hasattr(metrics, "table") and isinstance(metrics.table, pd.DataFrame):  # an EvaluationResult
        metrics = metrics.table
    if isinstance(metrics, pd.DataFrame):  # one row per policy: keep the learned row when there is one
        row = metrics.loc["learned"] if "learned" in metrics.index else metrics.iloc[0]
        metrics = row.to_dict()
    if isinstance(metrics, pd.Series):
        metrics = metrics.to_dict()
    if not isinstance(metrics, Mapping):
        raise InputError("metrics", "must be a mapping, a DataFrame or an EvaluationResult",
                         value=type(metrics).__name__)
    out: dict[str, Any] = {}
    for k, v in metrics.items():
        try:
            out[str(k)] = float(v)
        except (TypeError, ValueError):
            out[str(k)] = str(v)
    return out


def _parse(part: str, data: bytes) -> dict[str, torch.Tensor]:
    from safetensors.torch import load

    try:
        return load(bytes(data))
    except Exception as exc:  # SafetensorError and friends: a short or damaged blob
        raise InputError(f"entry part {part!r}",
                         f"is truncated or not a safetensors blob ({type(exc).__name__}); the entry is damaged: "
                         "delete it and save the team again", value=f"{len(data)} bytes") from None


def _check_shapes(state: dict[str, dict[str, torch.Tensor]], cfg: TrainConfig, where: str) -> None:
    """Tensor shapes against the current environment's spaces and the config's layers (module notes)."""
    obs_dim, state_dim = vec_env.OBS_DIM, vec_env.STATE_DIM  # read now: the environment's widths may change

    def want(part: str, key: str, shape: tuple[int, ...], why: str) -> None:
        t = state[part].get(key)
        if t is None:
            raise InputError(f"{where} part {part!r}", f"has no tensor {key!r}; the entry does not fit this "
                             "riskcore's team layout: train and save the team again")
        if tuple(t.shape) != shape:
            raise InputError(f"{where} part {part!r}",
                             f"shape mismatch: {key} is {tuple(t.shape)} but {why} needs {shape}; the entry was "
                             "trained for another environment: retrain it for this one", value=tuple(t.shape))

    for a in AGENTS:
        p = _actor_part(a)
        n_out = HEADS[a][1]
        last = 2 * len(cfg.hidden)
        want(p, "net.0.weight", (cfg.hidden[0], obs_dim), f"the observation width OBS_DIM={obs_dim}")
        want(p, f"net.{last}.weight", (n_out, cfg.hidden[-1]), f"the {a.value} action head ({n_out} outputs)")
    first = cfg.critic_hidden[0] if len(cfg.critic_hidden) > 1 else cfg.critic_hidden[-1]
    want(CRITIC_PART, "critic.trunk.0.weight", (first, state_dim), f"the global state width STATE_DIM={state_dim}")
    want(CRITIC_PART, "critic.value.weight", (1, cfg.critic_hidden[-1]), "the value head")
    want(CRITIC_PART, "critic.risk.weight", (len(RISK_SCORE_NAMES), cfg.critic_hidden[-1]),
         f"the risk head ({len(RISK_SCORE_NAMES)} scores)")


def _team_layers(team: Team) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The hidden widths of the team's actors and critic (what ``TrainConfig.hidden`` / ``critic_hidden`` say)."""
    lin = [m for m in team.actor(AgentName.POSITION_SIZING).net if isinstance(m, torch.nn.Linear)]
    trunk = [m for m in team.critic.trunk if isinstance(m, torch.nn.Linear)]
    return tuple(m.out_features for m in lin[:-1]), tuple(m.out_features for m in trunk)


class ModelRegistry:
    """Save, load, list, compare, activate and delete trained teams in a :class:`~riskcore.store.Store`.

    Examples
    --------
    >>> reg = ModelRegistry(store)                              # doctest: +SKIP
    >>> entry = reg.save(result, "desk", metrics=evaluation)    # doctest: +SKIP
    >>> loaded = reg.load("desk")                               # the newest version, checked  # doctest: +SKIP
    >>> RiskSystem(policy_source=loaded)                        # doctest: +SKIP
    """

    def __init__(self, store: Any):
        version = store.schema_version()
        if version is None or version < REGISTRY_SCHEMA:
            raise InputError("store", f"has schema version {version}; the model registry needs version "
                             f"{REGISTRY_SCHEMA} or later: open the store read-write once (any page, or "
                             "riskcore.Store(path)) to migrate it", value=str(getattr(store, "path", store)))
        self.store = store

    # -- save -------------------------------------------------------------------------------------------
    def save(self, team: Team | TrainingResult, name: str, *, train_config: TrainConfig | None = None,
             env_config: EnvConfig | None = None, metrics: Any = None, tags: Sequence[str] = ()) -> RegistryEntry:
        """Save ``team`` (or a training result's team and configs) as the next version of ``name``.

        Parameters
        ----------
        team : Team or TrainingResult
        name : str
        train_config, env_config : optional
            Default: the result's (``TrainConfig()`` and its environment for a bare team).
        metrics : mapping, DataFrame or EvaluationResult, optional
            An evaluation keeps its ``learned`` row (means and interval bounds).
        tags : sequence of str
        """
        if isinstance(team, TrainingResult):
            train_config = train_config or team.config
            team = team.team
        if not isinstance(team, Team):
            raise InputError("team", "must be a Team or a TrainingResult", value=type(team).__name__)
        hidden, critic_hidden = _team_layers(team)
        train_config = train_config or TrainConfig(hidden=hidden, critic_hidden=critic_hidden)
        if not isinstance(train_config, TrainConfig):
            raise InputError("train_config", "must be a TrainConfig", value=type(train_config).__name__)
        if (train_config.hidden, train_config.critic_hidden) != (hidden, critic_hidden):
            raise InputError("train_config", f"says layers {train_config.hidden} / {train_config.critic_hidden} but "
                             f"the team has {hidden} / {critic_hidden}: pass the config the team was trained with",
                             value=(train_config.hidden, train_config.critic_hidden))
        env_config = env_config or train_config.env
        if not isinstance(env_config, EnvConfig):
            raise InputError("env_config", "must be an EnvConfig", value=type(env_config).__name__)
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise InputError("name", "must be a non-empty string of at most 200 characters", value=name)
        tags = tuple(str(t) for t in tags)
        tc, ec = _plain(train_config.to_dict()), _plain(env_config.to_dict())
        parts = team_parts(team)
        digest = content_hash(parts, tc, ec)
        version = rows.save_agent_model(self.store, name.strip(), format_version=FORMAT_VERSION, content_hash=digest,
                                        train_config=tc, env_config=ec, metrics=_metrics_dict(metrics), tags=tags,
                                        blobs=parts)
        return self.entry(name.strip(), version)

    # -- look-up ----------------------------------------------------------------------------------------
    def _row(self, name: str, version: int | None, blobs: bool) -> rows.ModelRow:
        if not isinstance(name, str) or not name:
            raise InputError("name", "must be the name of a saved team", value=name)
        if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
            raise InputError("version", "must be a positive integer or None (the newest)", value=version)
        row = rows.load_agent_model(self.store, name, version, blobs=blobs)
        if row is None:
            versions = rows.agent_model_versions(self.store, name)
            if not versions:
                known = sorted({r.name for r in rows.list_agent_models(self.store)})
                raise InputError("name", f"no saved team has this name; saved: {known or 'none'} "
                                 "(train one on the Agent Training page)", value=name)
            raise InputError("version", f"team {name!r} has no version {version}; saved versions: {versions}",
                             value=version)
        return row

    @staticmethod
    def _entry(row: rows.ModelRow) -> RegistryEntry:
        return RegistryEntry(row.name, row.version, row.created_at, row.content_hash, dict(row.metrics), row.tags,
                             row.active, row.format_version)

    def entry(self, name: str, version: int | None = None) -> RegistryEntry:
        """Metadata of ``name``/``version`` (newest when None), without loading tensors."""
        return self._entry(self._row(name, version, blobs=False))

    def list(self, name: str | None = None) -> pd.DataFrame:
        """Entries, newest first: name, version, created_at, active, tags, content_hash and every metric."""
        out = []
        for r in rows.list_agent_models(self.store, name):
            out.append({"name": r.name, "version": r.version, "created_at": r.created_at, "active": r.active,
                        "tags": ", ".join(r.tags), "content_hash": r.content_hash[:12], **r.metrics})
        cols = ["name", "version", "created_at", "active", "tags", "content_hash"]
        return pd.DataFrame(out, columns=cols + [c for c in (out[0] if out else {}) if c not in cols])

    def compare(self, refs: Sequence[tuple[str, int | None] | str]) -> pd.DataFrame:
        """Metrics side by side: one column per entry (``"name vN"``), one row per metric."""
        cols = {}
        for ref in refs:
            name, version = (ref, None) if isinstance(ref, str) else ref
            e = self.entry(name, version)
            cols[f"{e.name} v{e.version}"] = pd.Series(e.metrics, dtype=object)
        if not cols:
            raise InputError("refs", "name at least one saved team to compare")
        return pd.DataFrame(cols).rename_axis("metric")

    # -- active team ------------------------------------------------------------------------------------
    def set_active(self, name: str, version: int | None = None) -> RegistryEntry:
        """Tag ``name``/``version`` (newest when None) as the registry's one active team."""
        e = self.entry(name, version)
        rows.set_active_agent_model(self.store, e.name, e.version)
        return self.entry(e.name, e.version)

    def active(self) -> RegistryEntry | None:
        ref = rows.active_agent_model(self.store)
        return None if ref is None else self.entry(*ref)

    def load_active(self) -> LoadedTeam:
        ref = rows.active_agent_model(self.store)
        if ref is None:
            raise InputError("active team", "none is tagged active: tag one with set_active(name, version)")
        return self.load(*ref)

    def delete(self, name: str, version: int | None = None) -> int:
        """Delete one version (every version of ``name`` when None); returns the number deleted."""
        self._row(name, version, blobs=False) if version is not None else self.entry(name)
        return rows.delete_agent_model(self.store, name, version)

    # -- load -------------------------------------------------------------------------------------------
    def load(self, name: str, version: int | None = None) -> LoadedTeam:
        """Read ``name``/``version`` (newest when None) back, checked (module notes), as a CPU team in eval mode."""
        row = self._row(name, version, blobs=True)
        where = f"entry {row.name} v{row.version}"
        if row.format_version > FORMAT_VERSION:
            raise InputError(where, f"was written by a newer riskcore (registry format {row.format_version}, this "
                             f"one reads up to {FORMAT_VERSION}): upgrade riskcore to load it",
                             value=row.format_version)
        expected = {_actor_part(a) for a in AGENTS} | {CRITIC_PART}
        missing = sorted(expected - set(row.blobs))
        if missing:
            raise InputError(where, f"misses the part(s) {missing}; the entry is damaged: delete it and save the "
                             "team again")
        state = {p: _parse(p, row.blobs[p]) for p in sorted(expected)}
        if content_hash(row.blobs, row.train_config, row.env_config, row.format_version) != row.content_hash:
            raise InputError(where, "content hash mismatch: its tensors or configs were changed after saving "
                             "(tampered or damaged); delete it and save the team again", value=row.content_hash[:12])
        try:
            cfg = TrainConfig.from_dict(row.train_config)
            env = EnvConfig.from_dict(row.env_config)
        except InputError:
            raise
        except Exception as exc:  # a config this riskcore does not know (fields added or removed)
            raise InputError(where, f"has a config this riskcore cannot read ({type(exc).__name__}: {exc}); "
                             "retrain and save the team with this version") from None
        _check_shapes(state, cfg, where)
        team = Team(cfg.hidden, cfg.critic_hidden)
        try:
            for a in AGENTS:
                team.actor(a).load_state_dict(state[_actor_part(a)])
            crit = state[CRITIC_PART]
            team.critic.load_state_dict({k[7:]: v for k, v in crit.items() if k.startswith("critic.")})
            team.value_norm.load_state_dict({k[11:]: v for k, v in crit.items() if k.startswith("value_norm.")})
        except RuntimeError as exc:  # keys or shapes the layout does not have
            raise InputError(where, f"does not fit the team layout of its config: {str(exc)[:300]}; retrain and "
                             "save it again") from None
        return LoadedTeam(self._entry(row), team.eval(), cfg, env)
