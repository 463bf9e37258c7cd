"""`indices:admin/data_stream/get` (mirrors ES `GetDataStreamAction`, resolving data stream names).

simcluster has indices and no data streams: a wildcard (or no name, or `_all`) finds none, and a concrete name is
ES's 404 `index_not_found_exception` for that name. Clients ask before they write: `helpers.reindex` of the
`elasticsearch` client checks whether its target is a data stream and goes on when the answer is "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from node.actions.support.transport_action import TransportAction
from node.common.action_names import GET_DATA_STREAMS
from node.data.errors import index_not_found
from node.tasks.task import Task

__all__ = ["GetDataStreamAction", "GetDataStreamRequest"]


@dataclass(frozen=True, slots=True)
class GetDataStreamRequest:
    names: tuple[str, ...] = ()

    def description(self) -> str:
        return ""


class GetDataStreamAction(TransportAction[GetDataStreamRequest, list[dict[str, Any]]]):
    name = GET_DATA_STREAMS

    async def execute(self, task: Task, request: GetDataStreamRequest) -> list[dict[str, Any]]:
        """The data streams of the names: none.

        Raises:
            IndexNotFoundError: a concrete name (ES resolves it as a data stream name and finds nothing).
        """
        for name in request.names:
            if name and name != "_all" and "*" not in name:
                raise index_not_found(name)
        return []
