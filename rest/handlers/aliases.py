"""The alias APIs: `GET|HEAD /_alias[/{name}]`, `GET|HEAD /{index}/_alias[/{name}]`, `GET /_aliases`,
`PUT|POST /{index}/_alias[es]/{name}`, `DELETE /{index}/_alias[es]/{name}` and `POST /_aliases` (ES
`RestGetAliasesAction`, `RestIndexPutAliasAction`, `RestIndexDeleteAliasesAction`, `RestIndicesAliasesAction`).

A get that names aliases answers only the indices having one of them; an alias named explicitly (not a wildcard,
not excluded by a later `-` pattern) that nothing has makes the answer a 404 whose body is ES's: an `error`
string (`alias [x] missing`, `aliases [x, y] missing`) and `status`, then the indices found. Monitoring tools (the
Prometheus exporter's alias metrics) read `GET /_alias` next to `GET /_stats`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from node.actions.aliases import (
    GetAliasesAction,
    GetAliasesRequest,
    IndicesAliasesAction,
    IndicesAliasesRequest,
    alias_pattern_matches,
)
from node.common.time_value import TimeValue
from node.data.aliases import parse_alias
from node.data.errors import XContentParseError
from node.data.index_resolver import IndicesOptions, parse_wildcard_states
from node.data.json_body import boolean_value, parse_json_object
from node.errors import ActionRequestValidationError, IllegalArgumentError
from rest.app_keys import rest_client, rest_request
from rest.handlers.indices import reject_shadowed_path
from rest.params import Params, split_by_comma

__all__ = ["delete_alias", "get_aliases", "put_alias", "update_aliases"]

_DEFAULT_TIMEOUT = TimeValue(30, "s")


def _timeouts(params: Params) -> dict[str, TimeValue]:
    out = {}
    for name in ("timeout", "master_timeout"):
        value = params.time(name)
        out[name] = value if value is not None and value.millis >= 0 else _DEFAULT_TIMEOUT
    return out


def _options(params: Params) -> IndicesOptions:
    """ES `GetAliasesRequest`'s `strictExpandHidden`: open, closed and hidden indices, unless the request says."""
    ignore_unavailable = params.bool("ignore_unavailable", False)
    allow_no_indices = params.bool("allow_no_indices", True)
    values = params.list("expand_wildcards")
    open_, closed, hidden = parse_wildcard_states(values) if values else (True, True, True)
    return IndicesOptions(ignore_unavailable, allow_no_indices, hidden, open_, closed)


def _missing_aliases(requested: list[str], returned: set[str]) -> list[str]:
    """ES `RestGetAliasesAction#buildRestResponse`: explicitly requested names absent from the answer, sorted."""
    first_wildcard = next((i for i, name in enumerate(requested) if "*" in name), len(requested))
    missing: set[str] = set()
    for i, name in enumerate(requested):
        if name == "_all" or "*" in name or (i > first_wildcard and name.startswith("-")):
            continue
        excluded = any(
            later.startswith("-") and (_matches(later[1:], name) or later[1:] == "_all")
            for later in requested[max(i + 1, first_wildcard) :]
        )
        if not excluded and name not in returned:
            missing.add(name)
    return sorted(missing)


def _matches(pattern: str, name: str) -> bool:
    return alias_pattern_matches([pattern], name)


async def get_aliases(request: web.Request) -> web.Response:
    if "index" in request.match_info:
        reject_shadowed_path(request)
    req = rest_request(request)
    p = req.params
    names_provided = "name" in request.match_info
    requested = split_by_comma(request.match_info.get("name"))
    options = _options(p)
    p.consume("local", "master_timeout")
    p.check_unrecognized()
    get = GetAliasesRequest(tuple(split_by_comma(request.match_info.get("index"))), tuple(requested), options)
    found = await rest_client(request).execute(GetAliasesAction, get)
    returned = {alias for aliases in found.values() for alias in aliases}
    missing = _missing_aliases(requested, returned) if names_provided else []
    body: dict[str, Any] = {}
    if missing:
        noun = "alias" if len(missing) == 1 else "aliases"
        body["error"] = f"{noun} [{','.join(missing)}] missing"
        body["status"] = 404
    for index, aliases in found.items():
        if names_provided and not aliases:
            continue
        body[index] = {"aliases": aliases}
    status = 404 if missing else 200
    if request.method == "HEAD":
        return web.Response(status=status, headers={"Content-Type": "application/json"})
    return req.respond(body, status=status)


_PUT_ALIAS_FIELDS = ("filter", "routing", "index_routing", "search_routing", "is_write_index", "is_hidden")


async def put_alias(request: web.Request) -> web.Response:
    """`PUT /{index}/_alias/{name}`: an `add` action; the body may hold the alias's filter, routings and flags."""
    reject_shadowed_path(request)
    req = rest_request(request)
    timeouts = _timeouts(req.params)
    req.params.check_unrecognized()
    body = parse_json_object(await request.read())
    indices = split_by_comma(request.match_info["index"])
    alias = request.match_info["name"]
    metadata = parse_alias(alias, {k: v for k, v in body.items() if k in _PUT_ALIAS_FIELDS})
    action = {"type": "add", "indices": indices, "aliases": [alias], "metadata": metadata}
    update = IndicesAliasesRequest(actions=(action,), **timeouts)
    return req.respond(await rest_client(request).execute(IndicesAliasesAction, update))


async def delete_alias(request: web.Request) -> web.Response:
    """`DELETE /{index}/_alias/{name}`: a `remove` action (names may be wildcards or `_all`)."""
    reject_shadowed_path(request)
    req = rest_request(request)
    timeouts = _timeouts(req.params)
    req.params.check_unrecognized()
    action = {
        "type": "remove",
        "indices": split_by_comma(request.match_info["index"]),
        "aliases": split_by_comma(request.match_info["name"]),
    }
    update = IndicesAliasesRequest(actions=(action,), **timeouts)
    return req.respond(await rest_client(request).execute(IndicesAliasesAction, update))


_ACTION_FIELDS = (
    "index", "indices", "alias", "aliases", "filter", "routing", "index_routing", "search_routing",
    "is_write_index", "is_hidden", "must_exist",
)  # fmt: skip


def _names(value: Any, field: str, kind: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise XContentParseError(1, 1, f"[{kind}] {field} doesn't support values of type: START_OBJECT")


def _parse_action(item: Any) -> tuple[dict[str, Any], list[str]]:
    """One element of `actions` (ES `AliasActions.PARSER`), with its validation problems."""
    if not isinstance(item, dict) or len(item) != 1:
        raise IllegalArgumentError("Expected exactly one action per element of [actions]")
    kind, fields = next(iter(item.items()))
    if kind not in ("add", "remove", "remove_index"):
        raise XContentParseError(1, 1, f"[aliases] unknown field [{kind}]")
    if not isinstance(fields, dict):
        raise XContentParseError(1, 1, f"[{kind}] failed to parse field [{kind}]")
    for key in fields:
        if key not in _ACTION_FIELDS:
            raise XContentParseError(1, 1, f"[{kind}] unknown field [{key}]")
    indices = [*_names(fields.get("index", []), "index", kind), *_names(fields.get("indices", []), "indices", kind)]
    aliases = [*_names(fields.get("alias", []), "alias", kind), *_names(fields.get("aliases", []), "aliases", kind)]
    problems = []
    if not indices:
        problems.append("One of [index] or [indices] is required")
    if kind != "remove_index" and not aliases:
        problems.append("One of [alias] or [aliases] is required")
    action: dict[str, Any] = {"type": kind, "indices": indices, "aliases": aliases}
    if kind == "add":
        alias_fields = {k: v for k, v in fields.items() if k in _PUT_ALIAS_FIELDS}
        action["metadata"] = parse_alias(aliases[0] if aliases else "", alias_fields)
    if "must_exist" in fields:  # ES declares it for `remove` only, read with `booleanValue()`
        if kind != "remove":
            raise XContentParseError(1, 1, f"[{kind}] unknown field [must_exist]")
        action["must_exist"] = boolean_value(fields["must_exist"], False)
    return action, problems


async def update_aliases(request: web.Request) -> web.Response:
    """`POST /_aliases`: the actions, applied in one published state."""
    req = rest_request(request)
    timeouts = _timeouts(req.params)
    req.params.check_unrecognized()
    body = parse_json_object(await request.read(), required=True)
    for key in body:
        if key != "actions":
            raise XContentParseError(1, 2, f"[aliases] unknown field [{key}]")
    raw_actions = body.get("actions") or []
    if not isinstance(raw_actions, list):
        raw_actions = [raw_actions]
    actions: list[Mapping[str, Any]] = []
    problems: list[str] = []
    for item in raw_actions:
        action, action_problems = _parse_action(item)
        actions.append(action)
        problems.extend(action_problems)
    if not actions:
        problems.insert(0, "No action specified")
    if problems:
        raise ActionRequestValidationError(*problems)
    update = IndicesAliasesRequest(actions=tuple(actions), **timeouts)
    return req.respond(await rest_client(request).execute(IndicesAliasesAction, update))
