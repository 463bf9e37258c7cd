"""HTTP security of one node: HTTPS, and basic authentication of every request as the `elastic` user.

Mirrors what an ES 9 node answers with `xpack.security.enabled: true` (`simcluster up --security`):

- authentication comes first, for every path and method, before routing: an unknown path or a wrong method without
  credentials is a 401, not a 400 or 405 (ES authenticates in its HTTP layer, before dispatching);
- no `Authorization` header: 401 `security_exception` "missing authentication credentials for REST request
  [<uri>]", with the `WWW-Authenticate` challenges ES's `DefaultAuthenticationFailureHandler` sends (basic, bearer,
  API key) both as HTTP headers and in the error's `header` object;
- a wrong user or password: 401 "unable to authenticate user [<user>] for REST request [<uri>]", same challenges;
- a malformed basic header: 401 from ES's `UsernamePasswordToken` ("invalid basic authentication header ...").

Only the `elastic` superuser exists, as in ES's reserved realm before any user is created. Bearer tokens and API
keys are not simulated: such a header counts as no credentials. Without a password file the node is open, as ES
with security disabled, and the `_security` routes do not exist.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from node.config import NodeConfig, is_loopback_host
from node.errors import SecurityError
from rest.app_keys import REST_REQUEST
from rest.handlers import security as security_handlers

__all__ = [
    "AUTHENTICATE_CHALLENGES",
    "ReservedRealm",
    "http_ssl_context",
    "security_middlewares",
    "security_routes",
]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_BASIC_CHALLENGE = 'Basic realm="security", charset="UTF-8"'
# ES 9 with HTTPS: the basic realm, the token service (bearer) and API keys, in ES's priority order.
AUTHENTICATE_CHALLENGES = (_BASIC_CHALLENGE, 'Bearer realm="security"', "ApiKey")
ELASTIC_USER = "elastic"


def http_ssl_context(config: NodeConfig) -> ssl.SSLContext | None:
    """The server context for HTTPS (ES `xpack.security.http.ssl.*`), `None` for plain HTTP."""
    if config.http_ssl_certificate is None or config.http_ssl_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # ES accepts TLSv1.2 and TLSv1.3
    context.load_cert_chain(config.http_ssl_certificate, config.http_ssl_key)
    return context


def _failure(reason: str, challenges: tuple[str, ...] = AUTHENTICATE_CHALLENGES) -> SecurityError:
    return SecurityError(reason, headers={"WWW-Authenticate": list(challenges)})


@dataclass(frozen=True, slots=True)
class ReservedRealm:
    """The `elastic` user and its password (ES `ReservedRealm`, authenticating basic credentials)."""

    password: str

    @classmethod
    def load(cls, config: NodeConfig) -> ReservedRealm | None:
        """Reads the password file the node's settings name; `None` when authentication is off."""
        if config.elastic_password_file is None:
            return None
        password = config.elastic_password_file.read_text(encoding="utf-8").strip()
        if not password:
            raise OSError(f"the elastic password file {config.elastic_password_file} is empty")
        return cls(password)

    def authenticate(self, authorization: str | None, uri: str) -> str:
        """The authenticated user name.

        Raises:
            SecurityError: 401, with ES's reason and challenges for what is wrong with the credentials.
        """
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "basic":  # ES: "may be valid for another realm"; none is here
            raise _failure(f"missing authentication credentials for REST request [{uri}]")
        token = token.strip()
        if not token:
            raise _failure("invalid basic authentication header value", (_BASIC_CHALLENGE,))
        try:
            decoded = base64.b64decode(token, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _failure("invalid basic authentication header encoding", (_BASIC_CHALLENGE,)) from None
        user, colon, password = decoded.partition(":")
        if not colon:
            raise _failure("invalid basic authentication header value", (_BASIC_CHALLENGE,))
        expected = self.password.encode()
        if user != ELASTIC_USER or not hmac.compare_digest(password.encode(), expected):
            raise _failure(f"unable to authenticate user [{user}] for REST request [{uri}]")
        return user


def _authentication_middleware(realm: ReservedRealm) -> Middleware:
    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            realm.authenticate(request.headers.get("Authorization"), request.raw_path)
        except SecurityError as e:
            # Rendered here rather than by `es_conventions` so the challenges go out as HTTP headers too.
            response = request[REST_REQUEST].respond(e.to_response_body(), status=e.status)
            for name, values in e.headers.items():
                for value in values:
                    response.headers.add(name, value)
            return response
        return await handler(request)

    return authenticate


def security_middlewares(config: NodeConfig) -> list[Middleware]:
    """The middlewares a node with authentication adds inside `es_conventions` (none without it)."""
    realm = ReservedRealm.load(config)
    if realm is None:
        if not is_loopback_host(config.host):
            log.warning(
                "the REST API is bound to [%s] beyond loopback without authentication: anyone who can reach it"
                " can read and change this cluster; start it with `simcluster up --security`",
                config.host,
            )
        return []
    return [_authentication_middleware(realm)]


def security_routes(config: NodeConfig) -> list[tuple[str, str, Handler]]:
    """The `_security` endpoints, registered only when authentication is on (ES registers none when disabled)."""
    if not config.authentication_enabled:
        return []
    return [("GET", "/_security/_authenticate", security_handlers.authenticate)]
