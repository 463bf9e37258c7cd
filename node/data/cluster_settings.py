"""Dynamic cluster settings: the `sim.*` costs of simulated work and the few ES settings the data plane obeys.

Mirrors ES `ClusterSettings` and `SettingsUpdater`: persistent settings live in `metadata["settings"]` (persisted
with the metadata), transient ones in `metadata["transient_settings"]`, which a master drops when it takes over
from a state it loaded from disk (ES never writes transient settings to disk, so a full-cluster restart loses
them). A transient value wins over a persistent one, which wins over the default.

| setting | default | what it costs |
| --- | --- | --- |
| `sim.search.shard_query_time` | `0ms` | each shard's query phase (`[phase/query]`, also `_count`) |
| `sim.search.shard_fetch_time` | `0ms` | each shard's fetch phase (`[phase/fetch/id]`) |
| `sim.scroll.batch_time` | `0ms` | each shard's part of a scroll round (`[phase/query/scroll]`) |
| `sim.write.doc_time` | `0ms` | each document written, on the primary and again on every replica |
| `sim.reindex.batch_time` | `10ms` | each batch of a reindex, update-by-query or delete-by-query worker |
| `sim.reindex.batch_size` | `1000` | the scroll size of those workers when the request sets none (`source.size`) |
| `sim.recovery.doc_time` | `0ms` | each document a replica copies from its primary while recovering |
| `sim.task.check_interval` | `50ms` | how often simulated work checks whether its task was cancelled |
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from node.common.time_value import parse_time_value
from node.data.index_metadata import normalize_settings
from node.errors import ActionRequestValidationError, IllegalArgumentError

__all__ = [
    "PERSISTENT_KEY",
    "SETTINGS",
    "TRANSIENT_KEY",
    "ClusterSetting",
    "SettingsUpdate",
    "SimCosts",
    "apply_settings_update",
    "effective_settings",
    "nested",
    "time_setting_nanos",
    "without_transient",
]

PERSISTENT_KEY = "settings"
TRANSIENT_KEY = "transient_settings"


def time_setting_nanos(key: str, value: str) -> int:
    """ES `Setting#timeSetting` parsing of a setting value, in nanoseconds; `-1` is -1.

    Raises:
        IllegalArgumentError: a missing unit, a fraction, garbage or a negative duration.
    """
    return parse_time_value(value, key).nanos


def _time(key: str, value: str) -> None:
    if time_setting_nanos(key, value) < 0:
        raise IllegalArgumentError(f"failed to parse value [{value}] for setting [{key}], must be >= [0ms]")


def _positive_time(key: str, value: str) -> None:
    if time_setting_nanos(key, value) < 1_000_000:
        raise IllegalArgumentError(f"failed to parse value [{value}] for setting [{key}], must be >= [1ms]")


def _positive_int(key: str, value: str) -> None:
    try:
        number = int(value)
    except ValueError:
        raise IllegalArgumentError(f"Failed to parse value [{value}] for setting [{key}]") from None
    if number < 1:
        raise IllegalArgumentError(f"Failed to parse value [{value}] for setting [{key}] must be >= 1")


def _boolean(key: str, value: str) -> None:
    if value not in ("true", "false"):
        raise IllegalArgumentError(f"Failed to parse value [{value}] as only [true] or [false] are allowed.")


def _one_of(*allowed: str) -> Callable[[str, str], None]:
    def check(key: str, value: str) -> None:
        if value.lower() not in allowed:
            raise IllegalArgumentError(f"No enum constant {key}.{value.upper()}")

    return check


@dataclass(frozen=True, slots=True)
class ClusterSetting:
    key: str
    default: str
    validate: Callable[[str, str], None]
    description: str


SETTINGS: Mapping[str, ClusterSetting] = {
    s.key: s
    for s in (
        ClusterSetting("sim.search.shard_query_time", "0ms", _time, "time each shard spends in the query phase"),
        ClusterSetting("sim.search.shard_fetch_time", "0ms", _time, "time each shard spends in the fetch phase"),
        ClusterSetting("sim.scroll.batch_time", "0ms", _time, "time each shard spends on one scroll round"),
        ClusterSetting("sim.write.doc_time", "0ms", _time, "time to write one document on one shard copy"),
        ClusterSetting("sim.reindex.batch_time", "10ms", _time, "time a reindex-family worker spends per batch"),
        ClusterSetting("sim.reindex.batch_size", "1000", _positive_int, "default scroll size of reindex workers"),
        ClusterSetting("sim.recovery.doc_time", "0ms", _time, "time to copy one document to a recovering replica"),
        ClusterSetting(
            "sim.task.check_interval", "50ms", _positive_time, "how often simulated work checks cancellation"
        ),
        # ES settings the data plane obeys.
        ClusterSetting("action.auto_create_index", "true", _boolean, "whether writes create missing indices"),
        ClusterSetting(
            "cluster.routing.allocation.enable",
            "all",
            _one_of("all", "primaries", "new_primaries", "none"),
            "which shard copies may be allocated",
        ),
    )
}


def nested(flat: Mapping[str, Any]) -> dict[str, Any]:
    """ES `Settings#toXContent` without `flat_settings`: dotted keys become nested objects."""
    out: dict[str, Any] = {}
    for key in sorted(flat):
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = flat[key]
    return out


def effective_settings(metadata: Mapping[str, Any]) -> dict[str, str]:
    """Every known setting's value: transient over persistent over default."""
    persistent = metadata.get(PERSISTENT_KEY) or {}
    transient = metadata.get(TRANSIENT_KEY) or {}
    return {key: transient.get(key, persistent.get(key, s.default)) for key, s in SETTINGS.items()}


def _validated_updates(raw: Mapping[str, Any], scope: str) -> dict[str, str | None]:
    """ES `AbstractScopedSettings#updateSettings`: unknown keys are refused; values must parse."""
    updates: dict[str, str | None] = dict(normalize_settings(raw, prefix=""))
    for key, value in updates.items():
        if key not in SETTINGS:
            raise IllegalArgumentError(f"{scope} setting [{key}], not recognized")
        if value is not None:
            SETTINGS[key].validate(key, value)
    return updates


@dataclass(frozen=True, slots=True)
class SettingsUpdate:
    """A validated `PUT /_cluster/settings` body; None values reset a setting to its default."""

    persistent: Mapping[str, str | None]
    transient: Mapping[str, str | None]

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> SettingsUpdate:
        """Raises `illegal_argument_exception` for unknown or malformed settings and ES's validation error when the
        body updates nothing."""
        persistent = _validated_updates(body.get("persistent") or {}, "persistent")
        transient = _validated_updates(body.get("transient") or {}, "transient")
        if not persistent and not transient:
            raise ActionRequestValidationError("no settings to update")
        return cls(persistent, transient)

    def to_json(self) -> dict[str, Any]:
        return {"persistent": dict(self.persistent), "transient": dict(self.transient)}


def _merged(current: Mapping[str, str], updates: Mapping[str, str | None]) -> dict[str, str]:
    out = dict(current)
    for key, value in updates.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return dict(sorted(out.items()))


def apply_settings_update(metadata: Mapping[str, Any], update: SettingsUpdate) -> dict[str, Any]:
    out = dict(metadata)
    out[PERSISTENT_KEY] = _merged(metadata.get(PERSISTENT_KEY) or {}, update.persistent)
    out[TRANSIENT_KEY] = _merged(metadata.get(TRANSIENT_KEY) or {}, update.transient)
    if not out[TRANSIENT_KEY]:
        del out[TRANSIENT_KEY]
    return out


def without_transient(metadata: Mapping[str, Any]) -> Mapping[str, Any]:
    """The metadata as ES would have loaded it from disk: no transient settings (itself when there are none)."""
    if TRANSIENT_KEY not in metadata:
        return metadata
    return {k: v for k, v in metadata.items() if k != TRANSIENT_KEY}


@dataclass(frozen=True, slots=True)
class SimCosts:
    """The simulated costs in effect, read from the applied cluster state; durations in seconds."""

    shard_query: float
    shard_fetch: float
    scroll_batch: float
    write_doc: float
    reindex_batch: float
    reindex_batch_size: int
    recovery_doc: float
    check_interval: float
    auto_create_index: bool
    allocation_enable: str

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> SimCosts:
        values = effective_settings(metadata)

        def seconds(key: str) -> float:
            return max(time_setting_nanos(key, values[key]), 0) / 1e9

        return cls(
            shard_query=seconds("sim.search.shard_query_time"),
            shard_fetch=seconds("sim.search.shard_fetch_time"),
            scroll_batch=seconds("sim.scroll.batch_time"),
            write_doc=seconds("sim.write.doc_time"),
            reindex_batch=seconds("sim.reindex.batch_time"),
            reindex_batch_size=int(values["sim.reindex.batch_size"]),
            recovery_doc=seconds("sim.recovery.doc_time"),
            check_interval=seconds("sim.task.check_interval"),
            auto_create_index=values["action.auto_create_index"] == "true",
            allocation_enable=values["cluster.routing.allocation.enable"].lower(),
        )
