"""Alias changes, run by the master, and alias reads (mirrors ES `TransportIndicesAliasesAction` with
`MetadataIndexAliasesService`, and `TransportGetAliasesAction`).

| action | REST | what the master publishes |
| --- | --- | --- |
| `indices:admin/aliases` | `POST /_aliases`, `PUT` and `DELETE /{index}/_alias/{name}` | the indices with their new aliases (or without the indices `remove_index` deleted) |
| `indices:admin/aliases/get` | `GET /_alias...`, `GET /{index}/_alias...` | nothing: it reads the applied state |

The answer is ES 8.14+'s: `{"acknowledged": true, "errors": false}`; when some `remove` actions found nothing to
remove and others did something, `errors` is true and `action_results` says, per action, what happened. When no
action did anything, the request fails with `aliases_not_found_exception`, as in ES.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from node.actions.indices_admin import DEFAULT_ACK_TIMEOUT
from node.actions.support.master_node_action import MasterNodeRequest, TransportMasterNodeAction
from node.actions.support.transport_action import TransportAction
from node.cluster.state import ClusterState
from node.common.action_names import GET_ALIASES, INDICES_ALIASES
from node.common.time_value import TimeValue
from node.data.aliases import AliasAction, apply_alias_actions
from node.data.allocation import routing_of, with_routing
from node.data.date_math import resolve_date_math
from node.data.errors import AliasesNotFoundError
from node.data.index_metadata import IndexMetadata, indices_of
from node.data.index_resolver import IndicesOptions, now_millis, resolve_indices
from node.errors import ElasticsearchError
from node.tasks.task import Task

__all__ = [
    "GetAliasesAction",
    "GetAliasesRequest",
    "IndicesAliasesAction",
    "IndicesAliasesRequest",
    "alias_pattern_matches",
]

# ES `IndicesAliasesRequest.AliasActions` resolve their indices strictly, open and closed ones alike.
_ACTION_INDICES = IndicesOptions(allow_no_indices=False, expand_closed=True, expand_hidden=False)


def alias_pattern_matches(patterns: Sequence[str], alias: str) -> bool:
    """ES `Metadata#findAliases`: `_all`, `*` wildcards and exact names, with `-` exclusions after a wildcard."""
    if not patterns:
        return True
    matched = False
    wildcard_seen = False
    for pattern in patterns:
        if pattern.startswith("-") and wildcard_seen:
            if _simple_match(pattern[1:], alias):
                matched = False
            continue
        if pattern == "_all" or "*" in pattern:
            wildcard_seen = True
        if pattern == "_all" or _simple_match(pattern, alias):
            matched = True
    return matched


def _simple_match(pattern: str, text: str) -> bool:
    parts = pattern.split("*")
    if len(parts) == 1:
        return pattern == text
    if not text.startswith(parts[0]) or not text.endswith(parts[-1]) or len(text) < len(parts[0]) + len(parts[-1]):
        return False
    position = len(parts[0])
    for part in parts[1:-1]:
        found = text.find(part, position, len(text) - len(parts[-1]))
        if found < 0:
            return False
        position = found + len(part)
    return True


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicesAliasesRequest(MasterNodeRequest):
    """Each action: `{"type": "add"|"remove"|"remove_index", "indices": [...], "aliases": [...], "metadata": {...},
    "must_exist": true|false|null}` (ES `AliasActions`, already parsed)."""

    actions: tuple[Mapping[str, Any], ...]
    timeout: TimeValue = DEFAULT_ACK_TIMEOUT


def _resolve(
    action: Mapping[str, Any], indices: Mapping[str, IndexMetadata], now: int
) -> tuple[list[AliasAction], list[str], list[str]]:
    """One request action as alias actions on concrete indices, with the indices and the aliases it named."""
    kind = action["type"]
    names = resolve_indices(action["indices"], indices, _ACTION_INDICES, now=now)
    requested = [resolve_date_math(a, now) for a in action.get("aliases") or ()]
    out: list[AliasAction] = []
    for name in names:
        if kind == "add":
            out.extend(AliasAction("add", name, alias, action.get("metadata") or {}) for alias in requested)
        elif kind == "remove":
            present = [alias for alias in indices[name].aliases if alias_pattern_matches(requested, alias)]
            if action.get("must_exist") and not present:
                raise AliasesNotFoundError(requested)
            out.extend(AliasAction("remove", name, alias) for alias in present)
        else:
            out.append(AliasAction("remove_index", name))
    return out, names, requested


def _action_result(action: Mapping[str, Any], names: list[str], error: ElasticsearchError | None) -> dict[str, Any]:
    """ES `IndicesAliasesResponse.AliasActionResult#toXContent`."""
    result: dict[str, Any] = {
        "action": {"type": action["type"], "indices": names, "aliases": list(action.get("aliases") or ())},
        "status": error.status if error is not None else 200,
    }
    if error is not None:
        result["error"] = error.to_dict()
    return result


class IndicesAliasesAction(TransportMasterNodeAction[IndicesAliasesRequest]):
    """`{"acknowledged": true, "errors": false}` once the new aliases are published."""

    name = INDICES_ALIASES
    request_type = IndicesAliasesRequest

    async def master_operation(self, task: Task | None, request: IndicesAliasesRequest) -> Mapping[str, Any]:
        results: list[dict[str, Any]] = []

        def update(state: ClusterState) -> ClusterState:
            indices = indices_of(state.metadata)
            now = now_millis()
            resolved: list[AliasAction] = []
            results.clear()
            requested_aliases: list[str] = []
            for action in request.actions:
                actions, names, aliases = _resolve(action, indices, now)
                requested_aliases.extend(aliases)
                error = AliasesNotFoundError(aliases) if action["type"] == "remove" and not actions else None
                results.append(_action_result(action, names, error))
                resolved.extend(actions)
            if not resolved and request.actions:
                raise AliasesNotFoundError(list(dict.fromkeys(requested_aliases)))
            updated, deleted = apply_alias_actions(indices, resolved)
            routing = routing_of(state.metadata)
            for name in deleted:
                routing.pop(name, None)
            return state.with_changes(metadata=with_routing(state.metadata, updated, routing))

        await self.cluster.submit_state_update(f"index-aliases {len(request.actions)} actions", update)
        errors = any("error" in result for result in results)
        body: dict[str, Any] = {"acknowledged": True, "errors": errors}
        if errors:
            body["action_results"] = results
        return body


@dataclass(frozen=True, slots=True)
class GetAliasesRequest:
    indices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # empty: every alias, and every index even without one
    options: IndicesOptions = field(default_factory=lambda: IndicesOptions(expand_hidden=True, expand_closed=True))


class GetAliasesAction(TransportAction[GetAliasesRequest, dict[str, dict[str, Any]]]):
    """`indices:admin/aliases/get`: per resolved index (sorted), its aliases matching the request, from the applied
    state. Without alias names every index is listed, also one without aliases (ES `TransportGetAliasesAction`
    post-processing); with names, only indices that have a matching alias."""

    name = GET_ALIASES
    cancellable = True

    async def execute(self, task: Task, request: GetAliasesRequest) -> dict[str, dict[str, Any]]:
        indices = indices_of(self.cluster.state().metadata)
        now = now_millis()
        names = resolve_indices(request.indices, indices, request.options, now=now)
        patterns = [resolve_date_math(a, now) for a in request.aliases]
        out: dict[str, dict[str, Any]] = {}
        for name in sorted(names):
            found = {
                alias: dict(meta)
                for alias, meta in sorted(indices[name].aliases.items())
                if alias_pattern_matches(patterns, alias)
            }
            if found or not patterns:
                out[name] = found
        return out
