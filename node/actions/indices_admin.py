"""Index and cluster-settings changes, run by the master (mirrors ES `MetadataCreateIndexService`,
`MetadataDeleteIndexService`, `AutoCreateAction` and `TransportClusterUpdateSettingsAction`).

| action | REST | what the master publishes |
| --- | --- | --- |
| `indices:admin/create` | `PUT /{index}` | the index, its routing, allocated primaries |
| `indices:admin/auto_create` | a write to a missing index | the same, with default settings, for each missing index |
| `indices:admin/delete` | `DELETE /{index}` | the metadata without the indices |
| `cluster:admin/settings/update` | `PUT /_cluster/settings` | the new persistent and transient settings |

Each is a `TransportMasterNodeAction`: the receiving node's task runs it when that node is the master, otherwise a
child task of the same action runs it on the master (`MasterRequests`). Every update reroutes before publishing.
Create waits, like ES, until enough shard copies are active (`wait_for_active_shards`, default 1: the primaries) and
reports it as `shards_acknowledged`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from node.actions.names import AUTO_CREATE_INDEX, CLUSTER_UPDATE_SETTINGS, CREATE_INDEX, DELETE_INDEX
from node.coordination.state import ClusterState
from node.data.allocation import copies_of, initial_routing, routing_of, with_routing
from node.data.cluster_settings import SettingsUpdate, apply_settings_update, nested
from node.data.errors import ResourceAlreadyExistsError
from node.data.index_metadata import IndexMetadata, indices_of, parse_index_settings, validate_index_name
from node.data.index_resolver import IndicesOptions, resolve_indices
from node.data.master_requests import DEFAULT_MASTER_TIMEOUT_S, MasterRequests
from node.errors import ElasticsearchError, IllegalArgumentError
from node.storage.store import new_node_id
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb
from node.transport.service import TransportService

__all__ = ["ActiveShardCount", "IndicesAdminAction", "enough_active_shards", "parse_wait_for_active_shards"]

StateUpdate = Callable[[str, Callable[[ClusterState], ClusterState]], Awaitable[ClusterState]]
StateWaiter = Callable[[Callable[[ClusterState], bool], float], Awaitable[ClusterState | None]]
ActiveShardCount = int | str  # a number of copies, or "all"
DEFAULT_ACK_TIMEOUT_S = 30.0


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


def _response(body: Mapping[str, Any]) -> pb.MasterResponse:
    return pb.MasterResponse(body_json=json.dumps(body, separators=(",", ":")))


class IndicesAdminAction:
    def __init__(
        self,
        transport: TransportService,
        master_requests: MasterRequests,
        submit_state_update: StateUpdate,
        wait_for_state: StateWaiter,
        reroute: Callable[[ClusterState], ClusterState],
        version_created: str,
    ) -> None:
        self._master_requests = master_requests
        self._submit = submit_state_update
        self._wait_for_state = wait_for_state
        self._reroute = reroute
        self._version_created = version_created
        for action, handler in (
            (CREATE_INDEX, self._create_on_master),
            (AUTO_CREATE_INDEX, self._auto_create_on_master),
            (DELETE_INDEX, self._delete_on_master),
            (CLUSTER_UPDATE_SETTINGS, self._update_settings_on_master),
        ):
            transport.register_action(action, pb.MasterRequest, pb.MasterResponse, handler)

    async def _on_master(
        self, action: str, task: Task | None, body: Mapping[str, Any], handler: Any, master_timeout: float
    ) -> dict[str, Any]:
        request = pb.MasterRequest(body_json=json.dumps(body, separators=(",", ":")))
        response = await self._master_requests.execute(
            action, request, parent=task, local=handler, timeout=master_timeout
        )
        return json.loads(response.body_json)  # type: ignore[no-any-return]

    # ---- create -------------------------------------------------------------------------------------------------

    async def create_index(
        self,
        task: Task,
        name: str,
        settings: Mapping[str, str],
        *,
        wait_for_active_shards: ActiveShardCount = 1,
        timeout: float = DEFAULT_ACK_TIMEOUT_S,
        master_timeout: float = DEFAULT_MASTER_TIMEOUT_S,
    ) -> dict[str, Any]:
        """`{"acknowledged": true, "shards_acknowledged": ..., "index": name}`.

        Raises:
            InvalidIndexNameError, IllegalArgumentError: a bad name or bad settings (checked before going to the
                master, as ES validates the request first).
            ResourceAlreadyExistsError: the index exists.
        """
        validate_index_name(name)
        parse_index_settings(settings)
        body = {"index": name, "settings": dict(settings), "wait_for_active_shards": wait_for_active_shards,
                "timeout": timeout, "cause": "api"}  # fmt: skip
        return await self._on_master(CREATE_INDEX, task, body, self._create_on_master, master_timeout)

    def _create(self, state: ClusterState, name: str, settings: Mapping[str, str], uuid: str) -> ClusterState:
        validate_index_name(name)
        indices = indices_of(state.metadata)
        if name in indices:
            raise ResourceAlreadyExistsError(name, indices[name].uuid)
        index = IndexMetadata.create(
            name, settings, uuid=uuid, creation_date=time.time_ns() // 1_000_000, version_created=self._version_created
        )
        indices[name] = index
        routing = routing_of(state.metadata)
        routing[name] = initial_routing(index.number_of_shards, index.number_of_replicas)
        return self._reroute(state.with_changes(metadata=with_routing(state.metadata, indices, routing)))

    async def _create_on_master(self, task: Task | None, request: pb.MasterRequest) -> pb.MasterResponse:
        body = json.loads(request.body_json)
        name, uuid = body["index"], new_node_id()
        await self._submit(
            f"create-index [{name}], cause [{body.get('cause', 'api')}]",
            lambda state: self._create(state, name, body["settings"], uuid),
        )
        wanted = body.get("wait_for_active_shards", 1)
        shards_acknowledged = True
        if wanted != 0:
            active = await self._wait_for_state(
                lambda s: enough_active_shards(s, name, uuid, wanted), float(body.get("timeout", DEFAULT_ACK_TIMEOUT_S))
            )
            shards_acknowledged = active is not None
        return _response({"acknowledged": True, "shards_acknowledged": shards_acknowledged, "index": name})

    # ---- auto-create ------------------------------------------------------------------------------------------

    async def auto_create(
        self, task: Task, names: Sequence[str], *, master_timeout: float = DEFAULT_MASTER_TIMEOUT_S
    ) -> dict[str, ElasticsearchError]:
        """Creates each missing index with the default settings; returns the failure of each one that could not be
        created (an index that exists meanwhile is no failure, as in ES)."""
        body = await self._on_master(
            AUTO_CREATE_INDEX, task, {"indices": list(names)}, self._auto_create_on_master, master_timeout
        )
        return {name: ElasticsearchError.from_wire(error) for name, error in body.get("errors", {}).items()}

    async def _auto_create_on_master(self, task: Task | None, request: pb.MasterRequest) -> pb.MasterResponse:
        names = json.loads(request.body_json)["indices"]
        errors: dict[str, Any] = {}
        for name in names:
            uuid = new_node_id()

            def update(state: ClusterState, name: str = name, uuid: str = uuid) -> ClusterState:
                if name in indices_of(state.metadata):
                    return state
                return self._create(state, name, {}, uuid)

            try:
                await self._submit(f"auto create [{name}]", update)
            except ElasticsearchError as e:
                errors[name] = e.to_wire()
        return _response({"errors": errors})

    # ---- delete -----------------------------------------------------------------------------------------------

    async def delete_indices(
        self,
        task: Task,
        expressions: Sequence[str],
        options: IndicesOptions,
        *,
        master_timeout: float = DEFAULT_MASTER_TIMEOUT_S,
    ) -> dict[str, Any]:
        """`{"acknowledged": true}` once the indices are gone from the published state.

        Raises:
            IllegalArgumentError: a wildcard or `_all` (ES 8 `action.destructive_requires_name` defaults to true).
            IndexNotFoundError: a concrete name that does not exist, unless `ignore_unavailable`.
        """
        for expression in expressions:
            if "*" in expression or expression == "_all":
                raise IllegalArgumentError("Wildcard expressions or all indices are not allowed")
        body = {"indices": list(expressions), "ignore_unavailable": options.ignore_unavailable,
                "allow_no_indices": options.allow_no_indices}  # fmt: skip
        return await self._on_master(DELETE_INDEX, task, body, self._delete_on_master, master_timeout)

    async def _delete_on_master(self, task: Task | None, request: pb.MasterRequest) -> pb.MasterResponse:
        body = json.loads(request.body_json)
        options = IndicesOptions(body["ignore_unavailable"], body["allow_no_indices"], expand_hidden=True)

        def update(state: ClusterState) -> ClusterState:
            indices = indices_of(state.metadata)
            names = resolve_indices(body["indices"], indices, options)
            if not names:
                return state
            routing = routing_of(state.metadata)
            for name in names:
                indices.pop(name, None)
                routing.pop(name, None)
            return state.with_changes(metadata=with_routing(state.metadata, indices, routing))

        await self._submit(f"delete-index {body['indices']}", update)
        return _response({"acknowledged": True})

    # ---- cluster settings -------------------------------------------------------------------------------------

    async def update_settings(
        self, task: Task, update: SettingsUpdate, *, master_timeout: float = DEFAULT_MASTER_TIMEOUT_S
    ) -> dict[str, Any]:
        """`{"acknowledged": true, "persistent": {...}, "transient": {...}}` with the settings set (nested)."""
        return await self._on_master(
            CLUSTER_UPDATE_SETTINGS, task, update.to_json(), self._update_settings_on_master, master_timeout
        )

    async def _update_settings_on_master(self, task: Task | None, request: pb.MasterRequest) -> pb.MasterResponse:
        body = json.loads(request.body_json)
        update = SettingsUpdate(body["persistent"], body["transient"])

        def apply(state: ClusterState) -> ClusterState:
            return self._reroute(state.with_changes(metadata=apply_settings_update(state.metadata, update)))

        await self._submit("cluster_update_settings", apply)
        return _response(
            {
                "acknowledged": True,
                "persistent": nested({k: v for k, v in update.persistent.items() if v is not None}),
                "transient": nested({k: v for k, v in update.transient.items() if v is not None}),
            }
        )
