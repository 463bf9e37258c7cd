"""Index settings, mappings and the open/closed state: master-run changes and reads of the applied state (mirrors ES
`TransportUpdateSettingsAction` with `MetadataUpdateSettingsService`, `TransportGetSettingsAction`,
`TransportPutMappingAction`, `TransportGetMappingsAction`, `TransportCloseIndexAction` and
`TransportOpenIndexAction`).

| action | REST | what the master publishes |
| --- | --- | --- |
| `indices:admin/settings/update` | `PUT /{index}/_settings` | the new settings, rerouted (a new `number_of_replicas` adds or drops copies) |
| `indices:admin/mapping/put` | `PUT /{index}/_mapping` | the mapping merged into each index's (kept and returned, not enforced) |
| `indices:admin/close`, `indices:admin/open` | `POST /{index}/_close`, `/_open` | the index's `state` |
| `indices:monitor/settings/get`, `indices:admin/mappings/get` | `GET /{index}/_settings`, `/_mapping` | nothing: they read the applied state |

Dynamic settings change an open index; a static one is refused on an open index with ES's `Can't update non
dynamic settings [[...]] for open indices [[name/uuid]]`, and a final one (`index.number_of_shards`) even on a
closed index (`final index setting [...], not updateable`). A closed index keeps its shard copies (ES 7.2+
replicates closed indices); reads and writes of it fail with `index_closed_exception`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from node.actions.indices_admin import DEFAULT_ACK_TIMEOUT, ActiveShardCount, enough_active_shards
from node.actions.support.master_node_action import MasterNodeRequest, TransportMasterNodeAction
from node.actions.support.transport_action import TransportAction
from node.cluster.state import ClusterState
from node.common.action_names import (
    CLOSE_INDEX,
    GET_INDEX_SETTINGS,
    GET_MAPPINGS,
    OPEN_INDEX,
    PUT_MAPPING,
    UPDATE_INDEX_SETTINGS,
)
from node.common.time_value import TimeValue
from node.data.allocation import routing_of, with_routing
from node.data.index_metadata import PRIVATE_SETTINGS, IndexMetadata, indices_of, parse_index_settings
from node.data.index_resolver import IndicesOptions, resolve_indices
from node.errors import IllegalArgumentError
from node.indices.routing_service import reroute_state
from node.tasks.task import Task

__all__ = [
    "CloseIndexAction",
    "GetMappingsAction",
    "GetSettingsAction",
    "IndexStateRequest",
    "IndicesReadRequest",
    "OpenIndexAction",
    "PutMappingAction",
    "PutMappingRequest",
    "UpdateSettingsAction",
    "UpdateSettingsRequest",
    "merge_mappings",
]

# ES `Setting.Property.Final`: never updatable. `Property.Dynamic` is every other setting simcluster accepts, except
# these static ones, updatable only on a closed index.
FINAL_SETTINGS = frozenset({"index.number_of_shards", "index.number_of_routing_shards"})
_STATIC_PREFIXES = ("index.codec", "index.analysis.", "index.sort.")


def _is_static(key: str) -> bool:
    return key in FINAL_SETTINGS or any(key == p or (p.endswith(".") and key.startswith(p)) for p in _STATIC_PREFIXES)


def _options(
    request: IndicesReadRequest | UpdateSettingsRequest | PutMappingRequest | IndexStateRequest,
) -> IndicesOptions:
    open_, closed, hidden = request.expand
    return IndicesOptions(request.ignore_unavailable, request.allow_no_indices, hidden, open_, closed)


# ---- settings -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateSettingsRequest(MasterNodeRequest):
    indices: tuple[str, ...]
    settings: Mapping[str, str | None]  # flat, `index.`-prefixed; None resets to the default
    preserve_existing: bool = False
    ignore_unavailable: bool = False
    allow_no_indices: bool = True
    expand: tuple[bool, bool, bool] = (True, False, False)  # open, closed, hidden
    timeout: TimeValue = DEFAULT_ACK_TIMEOUT


def _updated_settings(index: IndexMetadata, changes: Mapping[str, str | None], preserve: bool) -> dict[str, str]:
    """ES `MetadataUpdateSettingsService`: the index's settings with the changes applied and checked.

    Raises:
        IllegalArgumentError: a private, unknown, final or (on an open index) static setting, or a bad value.
    """
    for key in changes:
        if key in PRIVATE_SETTINGS:
            raise IllegalArgumentError(f"private index setting [{key}] can not be set explicitly")
        if key in FINAL_SETTINGS:
            raise IllegalArgumentError(f"final index setting [{key}], not updateable")
    static = sorted(key for key in changes if _is_static(key))
    if static and not index.is_closed:
        raise IllegalArgumentError(
            f"Can't update non dynamic settings [[{', '.join(static)}]] for open indices [[{index.name}/{index.uuid}]]"
        )
    settings = dict(index.settings)
    for key, value in changes.items():
        if value is None:
            settings.pop(key, None)
        elif not (preserve and key in settings):
            settings[key] = value
    parse_index_settings({k: v for k, v in settings.items() if k not in PRIVATE_SETTINGS})
    settings.setdefault("index.number_of_replicas", "1")
    return dict(sorted(settings.items()))


class UpdateSettingsAction(TransportMasterNodeAction[UpdateSettingsRequest]):
    """`{"acknowledged": true}` once the settings are published (and the routing follows the replica count)."""

    name = UPDATE_INDEX_SETTINGS
    request_type = UpdateSettingsRequest

    async def master_operation(self, task: Task | None, request: UpdateSettingsRequest) -> Mapping[str, Any]:
        version = self.services.config.es_version

        def update(state: ClusterState) -> ClusterState:
            indices = indices_of(state.metadata)
            for name in resolve_indices(request.indices, indices, _options(request)):
                index = indices[name]
                settings = _updated_settings(index, request.settings, request.preserve_existing)
                indices[name] = replace(index, settings=settings)
            metadata = with_routing(state.metadata, indices, routing_of(state.metadata))
            return reroute_state(state.with_changes(metadata=metadata), version)

        await self.cluster.submit_state_update(f"update-settings {list(request.indices)}", update)
        return {"acknowledged": True}


@dataclass(frozen=True, slots=True)
class IndicesReadRequest:
    """What `GET /{index}/_settings` and `GET /{index}/_mapping` resolve (ES `strictExpandOpen` by default)."""

    indices: tuple[str, ...] = ()
    ignore_unavailable: bool = False
    allow_no_indices: bool = True
    expand: tuple[bool, bool, bool] = (True, False, False)


class GetSettingsAction(TransportAction[IndicesReadRequest, list[IndexMetadata]]):
    """`indices:monitor/settings/get`: the resolved indices (sorted) with their settings, from the applied state."""

    name = GET_INDEX_SETTINGS
    cancellable = True

    async def execute(self, task: Task, request: IndicesReadRequest) -> list[IndexMetadata]:
        indices = indices_of(self.cluster.state().metadata)
        return [indices[name] for name in sorted(resolve_indices(request.indices, indices, _options(request)))]


# ---- mappings -------------------------------------------------------------------------------------------------


def merge_mappings(current: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """ES `MapperService#merge`, reduced to the shapes: objects merge key by key, anything else is replaced."""
    out = dict(current)
    for key, value in update.items():
        existing = out.get(key)
        if isinstance(existing, Mapping) and isinstance(value, Mapping):
            out[key] = merge_mappings(existing, value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class PutMappingRequest(MasterNodeRequest):
    indices: tuple[str, ...]
    mapping: Mapping[str, Any]
    ignore_unavailable: bool = False
    allow_no_indices: bool = True
    expand: tuple[bool, bool, bool] = (True, True, False)
    timeout: TimeValue = DEFAULT_ACK_TIMEOUT


class PutMappingAction(TransportMasterNodeAction[PutMappingRequest]):
    """`{"acknowledged": true}` once every resolved index holds the merged mapping."""

    name = PUT_MAPPING
    request_type = PutMappingRequest

    async def master_operation(self, task: Task | None, request: PutMappingRequest) -> Mapping[str, Any]:
        def update(state: ClusterState) -> ClusterState:
            indices = indices_of(state.metadata)
            for name in resolve_indices(request.indices, indices, _options(request)):
                indices[name] = replace(indices[name], mappings=merge_mappings(indices[name].mappings, request.mapping))
            return state.with_changes(metadata=with_routing(state.metadata, indices, routing_of(state.metadata)))

        await self.cluster.submit_state_update(f"put-mapping {list(request.indices)}", update)
        return {"acknowledged": True}


class GetMappingsAction(TransportAction[IndicesReadRequest, list[IndexMetadata]]):
    """`indices:admin/mappings/get`: the resolved indices (sorted) with their mappings."""

    name = GET_MAPPINGS
    cancellable = True

    async def execute(self, task: Task, request: IndicesReadRequest) -> list[IndexMetadata]:
        indices = indices_of(self.cluster.state().metadata)
        return [indices[name] for name in sorted(resolve_indices(request.indices, indices, _options(request)))]


# ---- close and open -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexStateRequest(MasterNodeRequest):
    indices: tuple[str, ...]
    ignore_unavailable: bool = False
    allow_no_indices: bool = True
    expand: tuple[bool, bool, bool] = (True, False, False)
    wait_for_active_shards: ActiveShardCount = 1
    timeout: TimeValue = DEFAULT_ACK_TIMEOUT


def _reject_wildcards(request: IndexStateRequest) -> None:
    """ES `DestructiveOperations` (`action.destructive_requires_name`, true since 8.0) for close."""
    for expression in request.indices:
        if "*" in expression or expression == "_all":
            raise IllegalArgumentError("Wildcard expressions or all indices are not allowed")


class _IndexStateAction(TransportMasterNodeAction[IndexStateRequest]):
    request_type = IndexStateRequest
    target_state: str

    async def master_operation(self, task: Task | None, request: IndexStateRequest) -> Mapping[str, Any]:
        changed: list[IndexMetadata] = []

        def update(state: ClusterState) -> ClusterState:
            indices = indices_of(state.metadata)
            changed.clear()
            for name in resolve_indices(request.indices, indices, _options(request)):
                if indices[name].state != self.target_state:
                    indices[name] = replace(indices[name], state=self.target_state)
                changed.append(indices[name])
            return state.with_changes(metadata=with_routing(state.metadata, indices, routing_of(state.metadata)))

        verb = "close" if self.target_state == "close" else "open"
        await self.cluster.submit_state_update(f"{verb}-indices {list(request.indices)}", update)
        wanted = request.wait_for_active_shards
        shards_acknowledged = True
        if wanted != 0 and changed:
            ready = await self.cluster.wait_for_state(
                lambda s: all(enough_active_shards(s, i.name, i.uuid, wanted) for i in changed),
                request.timeout.seconds,
            )
            shards_acknowledged = ready is not None
        return self.response(changed, shards_acknowledged)

    def response(self, changed: list[IndexMetadata], shards_acknowledged: bool) -> Mapping[str, Any]:
        return {"acknowledged": True, "shards_acknowledged": shards_acknowledged}


class CloseIndexAction(_IndexStateAction):
    """ES 7.2+'s answer: `{"acknowledged", "shards_acknowledged", "indices": {name: {"closed": true}}}`."""

    name = CLOSE_INDEX
    target_state = "close"

    async def execute(self, task: Task, request: IndexStateRequest) -> dict[str, Any]:
        _reject_wildcards(request)
        return await super().execute(task, request)

    def response(self, changed: list[IndexMetadata], shards_acknowledged: bool) -> Mapping[str, Any]:
        return {
            "acknowledged": True,
            "shards_acknowledged": shards_acknowledged,
            "indices": {index.name: {"closed": True} for index in changed},
        }


class OpenIndexAction(_IndexStateAction):
    """`{"acknowledged": true, "shards_acknowledged": true}` once the indices are open (and their primaries active)."""

    name = OPEN_INDEX
    target_state = "open"
