"""`GET|PUT /{index}/_settings`, `GET|PUT /{index}/_mapping` and `POST /{index}/_close`, `/_open` (ES
`RestGetSettingsAction`, `RestUpdateSettingsAction`, `RestGetMappingAction`, `RestPutMappingAction`,
`RestCloseIndexAction`, `RestOpenIndexAction`).

Settings answer per index, sorted by name: `{"<index>": {"settings": {"index": {...}}}}`, flat with
`flat_settings=true`, with a `defaults` section for `include_defaults=true`; a `{name}` path segment keeps only the
settings whose flat key matches one of its (wildcard) names. Mappings answer `{"<index>": {"mappings": {...}}}`,
exactly as stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from node.actions.index_settings import (
    CloseIndexAction,
    GetMappingsAction,
    GetSettingsAction,
    IndexStateRequest,
    IndicesReadRequest,
    OpenIndexAction,
    PutMappingAction,
    PutMappingRequest,
    UpdateSettingsAction,
    UpdateSettingsRequest,
)
from node.actions.indices_admin import parse_wait_for_active_shards
from node.common.regex import simple_match
from node.common.time_value import TimeValue
from node.data.cluster_settings import nested
from node.data.index_metadata import normalize_settings
from node.data.index_resolver import parse_wildcard_states
from node.data.json_body import parse_json_object
from node.errors import ActionRequestValidationError
from rest.app_keys import rest_client, rest_request
from rest.handlers.indices import reject_shadowed_path
from rest.params import Params, split_by_comma

__all__ = ["close_index", "get_mapping", "get_settings", "open_index", "put_mapping", "put_settings"]

_DEFAULT_TIMEOUT = TimeValue(30, "s")

# What ES lists under `defaults` for `include_defaults=true`, for the settings simcluster knows (flat keys).
_DEFAULTS = {
    "index.auto_expand_replicas": "false",
    "index.blocks.read_only": "false",
    "index.blocks.write": "false",
    "index.codec": "default",
    "index.hidden": "false",
    "index.max_result_window": "10000",
    "index.max_slices_per_scroll": "1024",
    "index.priority": "1",
    "index.refresh_interval": "1s",
}


def _matches(patterns: list[str], key: str) -> bool:
    return any(simple_match(pattern, key) for pattern in patterns)


def _index_targets(request: web.Request) -> tuple[str, ...]:
    if "index" in request.match_info:
        reject_shadowed_path(request)
    return tuple(split_by_comma(request.match_info.get("index")))


def _resolution(
    params: Params, default: tuple[bool, bool, bool], *, allow_no_indices: bool = True
) -> tuple[bool, bool, tuple[bool, bool, bool]]:
    """`ignore_unavailable`, `allow_no_indices` and the wildcard states (open, closed, hidden), with the request's
    own ES defaults."""
    values = params.list("expand_wildcards")
    return (
        params.bool("ignore_unavailable", False),
        params.bool("allow_no_indices", allow_no_indices),
        parse_wildcard_states(values) if values else default,
    )


def _timeouts(params: Params) -> tuple[TimeValue, TimeValue]:
    """`timeout` and `master_timeout`, 30s unless given."""
    out = []
    for name in ("timeout", "master_timeout"):
        value = params.time(name)
        out.append(value if value is not None and value.millis >= 0 else _DEFAULT_TIMEOUT)
    return out[0], out[1]


async def get_settings(request: web.Request) -> web.Response:
    targets = _index_targets(request)
    req = rest_request(request)
    p = req.params
    flat = p.bool("flat_settings", False)
    include_defaults = p.bool("include_defaults", False)
    names = split_by_comma(request.match_info.get("name"))
    # ES `GetSettingsRequest`: open and closed indices (`IndicesOptions.fromOptions(false, true, true, true)`).
    read = IndicesReadRequest(targets, *_resolution(p, (True, True, False)))
    p.consume("local", "master_timeout")
    p.check_unrecognized()
    body: dict[str, Any] = {}
    for index in await rest_client(request).execute(GetSettingsAction, read):
        settings = {k: v for k, v in index.settings.items() if not names or _matches(names, k)}
        entry: dict[str, Any] = {"settings": settings if flat else nested(settings)}
        if include_defaults:
            defaults = {
                k: v for k, v in _DEFAULTS.items() if k not in index.settings and (not names or _matches(names, k))
            }
            entry["defaults"] = defaults if flat else nested(defaults)
        body[index.name] = entry
    return req.respond(body)


def _settings_body(raw: bytes) -> Mapping[str, str | None]:
    """ES `UpdateSettingsRequest#fromXContent`: the body, or its `settings` object, with `index.` prefixed."""
    body = parse_json_object(raw, required=True)
    inner = body.get("settings")
    settings: Mapping[str, Any] = inner if isinstance(inner, Mapping) else body
    return normalize_settings(settings)


async def put_settings(request: web.Request) -> web.Response:
    targets = _index_targets(request)
    req = rest_request(request)
    p = req.params
    preserve = p.bool("preserve_existing", False)
    # ES `UpdateSettingsRequest`: open and closed indices, and a pattern must match (`fromOptions(false, false,
    # true, true)`): a static setting is changed on a closed index.
    ignore_unavailable, allow_no_indices, expand = _resolution(p, (True, True, False), allow_no_indices=False)
    timeout, master_timeout = _timeouts(p)
    p.consume("reopen", "flat_settings")
    p.check_unrecognized()
    settings = _settings_body(await request.read())
    if not settings:
        raise ActionRequestValidationError("no settings to update")
    update = UpdateSettingsRequest(
        indices=targets, settings=settings, preserve_existing=preserve, ignore_unavailable=ignore_unavailable,
        allow_no_indices=allow_no_indices, expand=expand, timeout=timeout, master_timeout=master_timeout,
    )  # fmt: skip
    return req.respond(await rest_client(request).execute(UpdateSettingsAction, update))


async def get_mapping(request: web.Request) -> web.Response:
    targets = _index_targets(request)
    req = rest_request(request)
    p = req.params
    # ES `GetSettingsRequest`: open and closed indices (`IndicesOptions.fromOptions(false, true, true, true)`).
    read = IndicesReadRequest(targets, *_resolution(p, (True, True, False)))
    p.consume("local", "master_timeout")
    p.check_unrecognized()
    indices = await rest_client(request).execute(GetMappingsAction, read)
    return req.respond({index.name: {"mappings": dict(index.mappings)} for index in indices})


async def put_mapping(request: web.Request) -> web.Response:
    targets = _index_targets(request)
    req = rest_request(request)
    p = req.params
    ignore_unavailable, allow_no_indices, expand = _resolution(p, (True, True, False))
    timeout, master_timeout = _timeouts(p)
    p.consume("write_index_only")
    p.check_unrecognized()
    mapping = parse_json_object(await request.read(), required=True)
    put = PutMappingRequest(
        indices=targets, mapping=mapping, ignore_unavailable=ignore_unavailable, allow_no_indices=allow_no_indices,
        expand=expand, timeout=timeout, master_timeout=master_timeout,
    )  # fmt: skip
    return req.respond(await rest_client(request).execute(PutMappingAction, put))


async def _change_state(request: web.Request, action: type[CloseIndexAction] | type[OpenIndexAction]) -> web.Response:
    targets = _index_targets(request)
    req = rest_request(request)
    p = req.params
    opening = action is OpenIndexAction
    ignore_unavailable, allow_no_indices, expand = _resolution(
        p, (False, True, False) if opening else (True, False, False)
    )
    wanted = parse_wait_for_active_shards(p.str("wait_for_active_shards"))
    timeout, master_timeout = _timeouts(p)
    p.check_unrecognized()
    change = IndexStateRequest(
        indices=targets, ignore_unavailable=ignore_unavailable, allow_no_indices=allow_no_indices, expand=expand,
        wait_for_active_shards=wanted, timeout=timeout, master_timeout=master_timeout,
    )  # fmt: skip
    return req.respond(await rest_client(request).execute(action, change))


async def close_index(request: web.Request) -> web.Response:
    return await _change_state(request, CloseIndexAction)


async def open_index(request: web.Request) -> web.Response:
    return await _change_state(request, OpenIndexAction)
