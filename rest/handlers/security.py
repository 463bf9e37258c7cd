"""`GET /_security/_authenticate`: who the request authenticated as (only on a node with authentication)."""

from __future__ import annotations

from aiohttp import web

from rest.app_keys import rest_request, rest_task

__all__ = ["authenticate"]

AUTHENTICATE_ACTION = "cluster:admin/xpack/security/user/authenticate"


async def authenticate(request: web.Request) -> web.Response:
    """ES's answer for the `elastic` user of the reserved realm, the only user a simcluster node knows."""
    req = rest_request(request)
    req.params.check_unrecognized()
    async with rest_task(request, AUTHENTICATE_ACTION, cancellable=False):
        body = {
            "username": "elastic",
            "roles": ["superuser"],
            "full_name": None,
            "email": None,
            "metadata": {"_reserved": True},
            "enabled": True,
            "authentication_realm": {"name": "reserved", "type": "reserved"},
            "lookup_realm": {"name": "reserved", "type": "reserved"},
            "authentication_type": "realm",
        }
    return req.respond(body)
