"""`cluster:admin/xpack/security/user/authenticate`: who a request authenticated as (ES
`TransportAuthenticateAction`). simcluster knows one user, `elastic` of the reserved realm, and the REST layer only
routes here once it has authenticated the request as that user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from node.actions.support.transport_action import TransportAction
from node.tasks.task import Task

__all__ = ["AuthenticateAction", "AuthenticateRequest"]

ELASTIC_USER = "elastic"


@dataclass(frozen=True, slots=True)
class AuthenticateRequest:
    username: str = ELASTIC_USER


class AuthenticateAction(TransportAction[AuthenticateRequest, dict[str, Any]]):
    name = "cluster:admin/xpack/security/user/authenticate"

    async def execute(self, task: Task, request: AuthenticateRequest) -> dict[str, Any]:
        return {
            "username": request.username,
            "roles": ["superuser"],
            "full_name": None,
            "email": None,
            "metadata": {"_reserved": True},
            "enabled": True,
            "authentication_realm": {"name": "reserved", "type": "reserved"},
            "lookup_realm": {"name": "reserved", "type": "reserved"},
            "authentication_type": "realm",
        }
