"""`GET /_data_stream` and `GET /_data_stream/{name}` (ES `RestGetDataStreamsAction`): no data streams exist."""

from __future__ import annotations

from aiohttp import web

from node.actions.data_streams import GetDataStreamAction, GetDataStreamRequest
from rest.app_keys import rest_client, rest_request
from rest.params import split_by_comma

__all__ = ["get_data_streams"]


async def get_data_streams(request: web.Request) -> web.Response:
    req = rest_request(request)
    req.params.consume("expand_wildcards", "include_defaults", "master_timeout", "verbose")
    req.params.check_unrecognized()
    names = tuple(split_by_comma(request.match_info.get("name")))
    streams = await rest_client(request).execute(GetDataStreamAction, GetDataStreamRequest(names))
    return req.respond({"data_streams": streams})
