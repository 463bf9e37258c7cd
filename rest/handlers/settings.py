"""`GET /_cluster/settings` and `PUT /_cluster/settings` (ES `RestClusterGetSettingsAction`,
`RestClusterUpdateSettingsAction`), including the simulator's `sim.*` costs (`node.data.cluster_settings`).

Settings render nested (`{"sim": {"search": {"shard_query_time": "30s"}}}`) unless `flat_settings=true`. A PUT
ignores top-level keys other than `persistent` and `transient` (ES reads only those two), refuses unknown settings
(`persistent setting [x], not recognized`) and resets a setting given as `null`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from node.actions.indices_admin import (
    ClusterGetSettingsAction,
    ClusterGetSettingsRequest,
    ClusterUpdateSettingsAction,
    ClusterUpdateSettingsRequest,
)
from node.data.cluster_settings import PERSISTENT_KEY, SETTINGS, TRANSIENT_KEY, SettingsUpdate, nested
from node.data.json_body import parse_json_object
from rest.app_keys import rest_client, rest_request

__all__ = ["get_cluster_settings", "put_cluster_settings"]


def _render(flat: Mapping[str, Any], flat_settings: bool) -> dict[str, Any]:
    return dict(sorted(flat.items())) if flat_settings else nested(flat)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(value, Mapping):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, child in value.items():
        out.update(_flatten(child, f"{prefix}.{key}" if prefix else str(key)))
    return out


async def get_cluster_settings(request: web.Request) -> web.Response:
    req = rest_request(request)
    p = req.params
    flat_settings = p.bool("flat_settings", False)
    include_defaults = p.bool("include_defaults", False)
    p.consume("master_timeout", "timeout", "local")
    p.check_unrecognized()
    metadata = await rest_client(request).execute(ClusterGetSettingsAction, ClusterGetSettingsRequest())
    body: dict[str, Any] = {
        "persistent": _render(metadata.get(PERSISTENT_KEY) or {}, flat_settings),
        "transient": _render(metadata.get(TRANSIENT_KEY) or {}, flat_settings),
    }
    if include_defaults:
        set_keys = set(metadata.get(PERSISTENT_KEY) or {}) | set(metadata.get(TRANSIENT_KEY) or {})
        defaults = {key: s.default for key, s in SETTINGS.items() if key not in set_keys}
        body["defaults"] = _render(defaults, flat_settings)
    return req.respond(body)


async def put_cluster_settings(request: web.Request) -> web.Response:
    req = rest_request(request)
    p = req.params
    flat_settings = p.bool("flat_settings", False)
    p.consume("master_timeout", "timeout")
    p.check_unrecognized()
    source = parse_json_object(await request.read(), required=True)
    update = SettingsUpdate.parse({k: source[k] for k in ("persistent", "transient") if k in source})
    put = ClusterUpdateSettingsRequest(persistent=update.persistent, transient=update.transient)
    body = await rest_client(request).execute(ClusterUpdateSettingsAction, put)
    if flat_settings:
        body["persistent"] = _render(_flatten(body["persistent"]), True)
        body["transient"] = _render(_flatten(body["transient"]), True)
    return req.respond(body)
