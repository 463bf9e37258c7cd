"""`TransportMasterNodeAction`: an operation only the elected master runs (mirrors ES `TransportMasterNodeAction`).

The node that received the request runs `master_operation` in its own task when it is the master; otherwise it
sends the request, as a child of its task, to the master, where the same action registers a `transport` task. A
missing master, one that steps down, cannot be reached or fails to publish is retried on the next master until
`master_timeout` runs out (`node.cluster.master_requests`). The request crosses the wire as JSON
(`node.actions.support.wire`), the response as the JSON body the master built.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from node.actions.support.transport_action import TransportAction
from node.actions.support.wire import request_from_json, request_to_json
from node.common.time_value import TimeValue
from node.tasks.task import Task
from node.transport.pb import transport_pb2 as pb

__all__ = ["MasterNodeRequest", "TransportMasterNodeAction"]

DEFAULT_MASTER_TIMEOUT = TimeValue(30, "s")
_FOREVER_S = 365 * 86_400.0  # `master_timeout=-1`: wait for a master as long as it takes
_MIN_APPLY_WAIT_S = 1.0  # a master that answered at the end of `master_timeout` still gets its state applied here


@dataclass(frozen=True, slots=True, kw_only=True)
class MasterNodeRequest:
    """ES `MasterNodeRequest`: how long to look for a master that runs it (`master_timeout`, 30s)."""

    master_timeout: TimeValue = DEFAULT_MASTER_TIMEOUT


MasterRequest = TypeVar("MasterRequest", bound=MasterNodeRequest)


class TransportMasterNodeAction(TransportAction[MasterRequest, dict[str, Any]], Generic[MasterRequest]):
    """Runs `master_operation` on the elected master and answers its JSON body.

    Subclasses set `name` and `request_type` and implement `master_operation`.
    """

    request_type: ClassVar[type[MasterNodeRequest]]

    def register(self) -> None:
        self.transport.register_action(
            self.name, pb.MasterRequest, pb.MasterResponse, self._on_master, describe=lambda r: r.description
        )

    async def master_operation(self, task: Task | None, request: MasterRequest) -> Mapping[str, Any]:
        raise NotImplementedError

    async def execute(self, task: Task, request: MasterRequest) -> dict[str, Any]:
        message = pb.MasterRequest(body_json=request_to_json(request), description=self.describe(request))
        timeout = request.master_timeout.seconds if request.master_timeout.millis >= 0 else _FOREVER_S
        started = time.monotonic()
        response: pb.MasterResponse = await self.services.master_requests.execute(
            self.name, message, parent=task, local=self._on_master, timeout=timeout
        )
        await self._apply_acknowledged_state(response.state_version, timeout - (time.monotonic() - started))
        return json.loads(response.body_json)

    async def _apply_acknowledged_state(self, version: int, timeout: float) -> None:
        """Waits until this node applied the state the master answered from.

        ES's master applies a new state only after the other nodes applied it, so once an index's shards are
        acknowledged, every node that acknowledged the publication already shows them. Here every node applies a
        committed state on its own, so the node that received the request waits for that version itself: a
        `_cat/indices` right after `PUT /index` on a node that is not the master then sees what the master saw.
        A node that cannot get there in time (it left the cluster meanwhile) answers anyway, as ES's
        acknowledgement timeout does.
        """
        if version <= self.cluster.state().version:
            return
        await self.cluster.wait_for_state(lambda s: s.version >= version, max(timeout, _MIN_APPLY_WAIT_S))

    async def _on_master(self, task: Task | None, message: pb.MasterRequest) -> pb.MasterResponse:
        request: MasterRequest = request_from_json(self.request_type, message.body_json)  # type: ignore[assignment]
        body = await self.master_operation(task, request)
        return pb.MasterResponse(
            body_json=json.dumps(body, separators=(",", ":")), state_version=self.cluster.state().version
        )
