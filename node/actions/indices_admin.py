"""Index and cluster-settings changes, run by the master, and their reads (mirrors ES `MetadataCreateIndexService`,
`MetadataDeleteIndexService`, `AutoCreateAction`, `TransportClusterUpdateSettingsAction`, `TransportGetIndexAction`
and `TransportClusterGetSettingsAction`).

| action | REST | what the master publishes |
| --- | --- | --- |
| `indices:admin/create` | `PUT /{index}` | the index, its routing, allocated primaries |
| `indices:admin/auto_create` | a write to a missing index | the same, with default settings, for each missing index |
| `indices:admin/delete` | `DELETE /{index}` | the metadata without the indices |
| `cluster:admin/settings/update` | `PUT /_cluster/settings` | the new persistent and transient settings |

Each is a `TransportMasterNodeAction`: the receiving node's task runs it when that node is the master, otherwise a
child task of the same action runs it on the master (`MasterRequests`). Every update reroutes before publishing.
Create waits, like ES, until enough shard copies are active (`wait_for_active_shards`, default 1: the primaries) and
reports it as `shards_acknowledged`. `indices:admin/get` and `cluster:monitor/settings` read the state the receiving
node applied.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from node.actions.support.master_node_action import MasterNodeRequest, TransportMasterNodeAction
from node.actions.support.transport_action import TransportAction
from node.cluster.state import ClusterState
from node.common.action_names import (
    AUTO_CREATE_INDEX,
    CLUSTER_GET_SETTINGS,
    CLUSTER_UPDATE_SETTINGS,
    CREATE_INDEX,
    DELETE_INDEX,
    GET_INDEX,
)
from node.common.time_value import TimeValue
from node.data.aliases import AliasAction, aliases_of, apply_alias_actions
from node.data.allocation import copies_of, initial_routing, routing_of, with_routing
from node.data.cluster_settings import SettingsUpdate, apply_settings_update, nested
from node.data.date_math import resolve_date_math
from node.data.errors import InvalidIndexNameError, ResourceAlreadyExistsError
from node.data.index_metadata import IndexMetadata, indices_of, parse_index_settings, validate_index_name
from node.data.index_resolver import IndicesOptions, now_millis, resolve_indices
from node.errors import ElasticsearchError, IllegalArgumentError
from node.indices.routing_service import reroute_state
from node.storage.store import new_node_id
from node.tasks.task import Task

__all__ = [
    "ActiveShardCount",
    "AutoCreateIndexAction",
    "AutoCreateIndexRequest",
    "ClusterGetSettingsAction",
    "ClusterGetSettingsRequest",
    "ClusterUpdateSettingsAction",
    "ClusterUpdateSettingsRequest",
    "CreateIndexAction",
    "CreateIndexRequest",
    "DeleteIndexAction",
    "DeleteIndexRequest",
    "GetIndexAction",
    "GetIndexRequest",
    "enough_active_shards",
    "parse_wait_for_active_shards",
]

ActiveShardCount = int | str  # a number of copies, or "all"
DEFAULT_ACK_TIMEOUT = TimeValue(30, "s")


def parse_wait_for_active_shards(value: str | None) -> ActiveShardCount:
    """ES `ActiveShardCount#parseString`: `all`, `default` (1) or a non-negative number."""
    if value is None or value == "default":
        return 1
    if value == "all":
        return "all"
    try:
        count = int(value)
    except ValueError:
        raise IllegalArgumentError(f"cannot parse ActiveShardCount[{value}]") from None
    if count < 0:
        raise IllegalArgumentError(f"cannot parse ActiveShardCount[{value}]")
    return count


def enough_active_shards(state: ClusterState, index: str, uuid: str, wanted: ActiveShardCount) -> bool:
    """Whether every shard of `index` has `wanted` active copies (ES `ActiveShardCount#enoughShardsActive`)."""
    indices = indices_of(state.metadata)
    meta = indices.get(index)
    if meta is None or meta.uuid != uuid:
        return False
    for copies in copies_of(state.metadata, index):
        active = sum(1 for c in copies if c.active)
        needed = len(copies) if wanted == "all" else int(wanted)
        if active < needed:
            return False
    return True


def _create(
    state: ClusterState,
    name: str,
    settings: Mapping[str, str],
    uuid: str,
    version: str,
    *,
    mappings: Mapping[str, Any] | None = None,
    aliases: Mapping[str, Mapping[str, Any]] | None = None,
) -> ClusterState:
    """The state with a new index, its routing and its primaries allocated (ES `MetadataCreateIndexService`)."""
    validate_index_name(name)
    indices = indices_of(state.metadata)
    if name in indices:
        raise ResourceAlreadyExistsError(name, indices[name].uuid)
    if name in aliases_of(indices):
        raise InvalidIndexNameError(name, "already exists as alias")
    index = IndexMetadata.create(
        name, settings, uuid=uuid, creation_date=time.time_ns() // 1_000_000, version_created=version
    )
    if mappings:
        index = replace(index, mappings=dict(mappings))
    if aliases:
        indices, _ = apply_alias_actions(
            {**indices, name: index}, [AliasAction("add", name, alias, meta) for alias, meta in aliases.items()]
        )
        index = indices[name]
    indices[name] = index
    routing = routing_of(state.metadata)
    routing[name] = initial_routing(index.number_of_shards, index.number_of_replicas)
    return reroute_state(state.with_changes(metadata=with_routing(state.metadata, indices, routing)), version)


# ---- create ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateIndexRequest(MasterNodeRequest):
    index: str
    settings: Mapping[str, str] = field(default_factory=dict)
    mappings: Mapping[str, Any] = field(default_factory=dict)
    aliases: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    wait_for_active_shards: ActiveShardCount = 1
    timeout: TimeValue = DEFAULT_ACK_TIMEOUT
    cause: str = "api"


class CreateIndexAction(TransportMasterNodeAction[CreateIndexRequest]):
    """`{"acknowledged": true, "shards_acknowledged": ..., "index": name}`."""

    name = CREATE_INDEX
    request_type = CreateIndexRequest

    async def execute(self, task: Task, request: CreateIndexRequest) -> dict[str, Any]:
        """Raises:
        InvalidIndexNameError, IllegalArgumentError: a bad name or bad settings (checked before going to the
            master, as ES validates the request first).
        ResourceAlreadyExistsError: the index exists.
        """
        validate_index_name(resolve_date_math(request.index, now_millis()))
        parse_index_settings(request.settings)
        return await super().execute(task, request)

    async def master_operation(self, task: Task | None, request: CreateIndexRequest) -> Mapping[str, Any]:
        # ES `TransportCreateIndexAction` resolves a date-math name on the master and answers with the result.
        name, uuid, version = (
            resolve_date_math(request.index, now_millis()),
            new_node_id(),
            self.services.config.es_version,
        )
        await self.cluster.submit_state_update(
            f"create-index [{name}], cause [{request.cause}]",
            lambda state: _create(
                state, name, request.settings, uuid, version, mappings=request.mappings, aliases=request.aliases
            ),
        )
        wanted = request.wait_for_active_shards
        shards_acknowledged = True
        if wanted != 0:
            active = await self.cluster.wait_for_state(
                lambda s: enough_active_shards(s, name, uuid, wanted), request.timeout.seconds
            )
            shards_acknowledged = active is not None
        return {"acknowledged": True, "shards_acknowledged": shards_acknowledged, "index": name}


# ---- auto-create ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AutoCreateIndexRequest(MasterNodeRequest):
    indices: tuple[str, ...]


class AutoCreateIndexAction(TransportMasterNodeAction[AutoCreateIndexRequest]):
    """Creates each missing index with the default settings; answers `{"errors": {index: error}}` for the ones that
    could not be created (an index that exists meanwhile is no failure, as in ES)."""

    name = AUTO_CREATE_INDEX
    request_type = AutoCreateIndexRequest

    async def master_operation(self, task: Task | None, request: AutoCreateIndexRequest) -> Mapping[str, Any]:
        version = self.services.config.es_version
        errors: dict[str, Any] = {}
        for name in request.indices:
            uuid = new_node_id()

            def update(state: ClusterState, name: str = name, uuid: str = uuid) -> ClusterState:
                if name in indices_of(state.metadata):
                    return state
                return _create(state, name, {}, uuid, version)

            try:
                await self.cluster.submit_state_update(f"auto create [{name}]", update)
            except ElasticsearchError as e:
                errors[name] = e.to_wire()
        return {"errors": errors}


# ---- delete ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteIndexRequest(MasterNodeRequest):
    indices: tuple[str, ...]
    ignore_unavailable: bool = False
    allow_no_indices: bool = False


class DeleteIndexAction(TransportMasterNodeAction[DeleteIndexRequest]):
    """`{"acknowledged": true}` once the indices are gone from the published state."""

    name = DELETE_INDEX
    request_type = DeleteIndexRequest

    async def execute(self, task: Task, request: DeleteIndexRequest) -> dict[str, Any]:
        """Raises:
        IllegalArgumentError: a wildcard or `_all` (ES 8 `action.destructive_requires_name` defaults to true).
        IndexNotFoundError: a concrete name that does not exist, unless `ignore_unavailable`.
        """
        for expression in request.indices:
            if "*" in expression or expression == "_all":
                raise IllegalArgumentError("Wildcard expressions or all indices are not allowed")
        return await super().execute(task, request)

    async def master_operation(self, task: Task | None, request: DeleteIndexRequest) -> Mapping[str, Any]:
        options = IndicesOptions(
            request.ignore_unavailable, request.allow_no_indices, expand_hidden=True, expand_closed=True
        )

        def update(state: ClusterState) -> ClusterState:
            indices = indices_of(state.metadata)
            aliases = aliases_of(indices)
            for expression in request.indices:  # ES resolves a delete's names with `ignoreAliases`
                if expression in aliases:
                    raise IllegalArgumentError(
                        f"The provided expression [{expression}] matches an alias, specify the corresponding "
                        "concrete indices instead."
                    )
            names = resolve_indices(request.indices, indices, options)
            if not names:
                return state
            routing = routing_of(state.metadata)
            for name in names:
                indices.pop(name, None)
                routing.pop(name, None)
            return state.with_changes(metadata=with_routing(state.metadata, indices, routing))

        await self.cluster.submit_state_update(f"delete-index {list(request.indices)}", update)
        return {"acknowledged": True}


# ---- cluster settings -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterUpdateSettingsRequest(MasterNodeRequest):
    persistent: Mapping[str, str | None] = field(default_factory=dict)
    transient: Mapping[str, str | None] = field(default_factory=dict)


class ClusterUpdateSettingsAction(TransportMasterNodeAction[ClusterUpdateSettingsRequest]):
    """`{"acknowledged": true, "persistent": {...}, "transient": {...}}` with the settings set (nested)."""

    name = CLUSTER_UPDATE_SETTINGS
    request_type = ClusterUpdateSettingsRequest

    async def master_operation(self, task: Task | None, request: ClusterUpdateSettingsRequest) -> Mapping[str, Any]:
        update = SettingsUpdate(dict(request.persistent), dict(request.transient))
        version = self.services.config.es_version

        def apply(state: ClusterState) -> ClusterState:
            return reroute_state(state.with_changes(metadata=apply_settings_update(state.metadata, update)), version)

        await self.cluster.submit_state_update("cluster_update_settings", apply)
        return {
            "acknowledged": True,
            "persistent": nested({k: v for k, v in update.persistent.items() if v is not None}),
            "transient": nested({k: v for k, v in update.transient.items() if v is not None}),
        }


# ---- reads of the applied state -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GetIndexRequest:
    indices: tuple[str, ...]
    options: IndicesOptions = field(default_factory=IndicesOptions)


class GetIndexAction(TransportAction[GetIndexRequest, list[IndexMetadata]]):
    """`indices:admin/get`: the metadata of the indices the expressions resolve to, from the applied state."""

    name = GET_INDEX
    cancellable = True

    async def execute(self, task: Task, request: GetIndexRequest) -> list[IndexMetadata]:
        indices = indices_of(self.cluster.state().metadata)
        return [indices[name] for name in resolve_indices(request.indices, indices, request.options)]


@dataclass(frozen=True, slots=True)
class ClusterGetSettingsRequest:
    pass


class ClusterGetSettingsAction(TransportAction[ClusterGetSettingsRequest, Mapping[str, Any]]):
    """`cluster:monitor/settings`: the metadata holding the persistent and transient settings."""

    name = CLUSTER_GET_SETTINGS
    cancellable = True

    async def execute(self, task: Task, request: ClusterGetSettingsRequest) -> Mapping[str, Any]:
        return self.cluster.state().metadata
