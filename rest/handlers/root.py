"""`GET /` and `HEAD /`: what `client.info()` and `client.ping()` call."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.actions.main import MainAction, MainRequest
from node.actions.nodes_info import build_hash
from rest.app_keys import rest_client, rest_request, services

__all__ = ["info", "ping"]


# Lucene release shipped with each ES minor, for `version.lucene_version`.
_LUCENE = {"9.0": "10.1.0", "9.1": "10.2.2", "9.2": "10.3.1", "8.19": "9.12.2", "8.18": "9.12.1", "8.17": "9.12.0"}


def version_block(number: str) -> dict[str, Any]:
    major, _, rest = number.partition(".")
    minor = rest.partition(".")[0]
    wire, index = ("8.19.0", "8.0.0") if major == "9" else ("7.17.0", "7.0.0")
    return {
        "number": number,
        "build_flavor": "default",
        "build_type": "tar",
        "build_hash": build_hash(number),
        "build_date": "2025-07-17T09:51:31.284Z",
        "build_snapshot": False,
        "lucene_version": _LUCENE.get(f"{major}.{minor}", "10.2.2"),
        "minimum_wire_compatibility_version": wire,
        "minimum_index_compatibility_version": index,
    }


async def info(request: web.Request) -> web.Response:
    req = rest_request(request)
    req.params.check_unrecognized()
    state = await rest_client(request).execute(MainAction, MainRequest())
    config = services(request).config
    body = {
        "name": config.name,
        "cluster_name": config.cluster_name,
        "cluster_uuid": state.cluster_uuid,
        "version": version_block(config.es_version),
        "tagline": "You Know, for Search",
    }
    return req.respond(body)


async def ping(request: web.Request) -> web.Response:
    rest_request(request).params.check_unrecognized()
    return web.Response(status=200, headers={"Content-Type": "application/json"})
