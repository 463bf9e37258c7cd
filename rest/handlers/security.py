"""`GET /_security/_authenticate`: who the request authenticated as (only on a node with authentication)."""

from __future__ import annotations

from aiohttp import web

from node.actions.authenticate import AuthenticateAction, AuthenticateRequest
from rest.app_keys import rest_client, rest_request

__all__ = ["authenticate"]


async def authenticate(request: web.Request) -> web.Response:
    """ES's answer for the `elastic` user of the reserved realm, the only user a simcluster node knows."""
    req = rest_request(request)
    req.params.check_unrecognized()
    return req.respond(await rest_client(request).execute(AuthenticateAction, AuthenticateRequest()))
