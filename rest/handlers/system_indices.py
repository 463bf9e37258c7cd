"""The deprecation warning of a request that names a system index (mirrors ES `SystemIndices` access checks and
`HeaderWarning`).

ES 9 still lets a REST request read and write a system index that is not a *net-new* one, such as `.tasks`, and
adds a `Warning` header: `299 Elasticsearch-<version>-<build hash> "this request accesses system indices: [.tasks],
but in a future major version, direct access to system indices will be prevented by default"`. The indices a
request names (or whose wildcards match them, hidden ones only through a pattern starting with `.`) are resolved
against the node's cluster state; the tasks APIs, which read `.tasks` for the user, carry no warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from aiohttp import web

from node.actions.nodes_info import build_hash
from node.data.index_metadata import indices_of
from node.data.index_resolver import IndicesOptions, resolve_indices
from node.errors import ElasticsearchError
from node.storage.task_results import TASKS_INDEX
from rest.app_keys import cluster_state, services

__all__ = ["SYSTEM_INDICES", "system_index_warning", "with_system_index_warning"]

SYSTEM_INDICES = frozenset({TASKS_INDEX})
_LENIENT = IndicesOptions(ignore_unavailable=True, allow_no_indices=True)

R = TypeVar("R", bound=web.StreamResponse)


def system_index_warning(names: Sequence[str], version: str) -> str:
    """The `Warning` header value for the system indices a request accessed (ES `HeaderWarning#formatWarning`)."""
    message = (
        f"this request accesses system indices: [{', '.join(names)}], but in a future major version, direct "
        "access to system indices will be prevented by default"
    )
    return f'299 Elasticsearch-{version}-{build_hash(version)} "{message}"'


def with_system_index_warning(request: web.Request, response: R, expressions: Sequence[str]) -> R:
    """`response`, with ES's warning when `expressions` resolve to a system index."""
    try:
        names = resolve_indices(expressions, indices_of(cluster_state(request).metadata), _LENIENT)
    except ElasticsearchError:
        return response
    accessed = sorted(n for n in names if n in SYSTEM_INDICES)
    if accessed:
        response.headers.add("Warning", system_index_warning(accessed, services(request).config.es_version))
    return response
