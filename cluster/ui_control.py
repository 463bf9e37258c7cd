"""The launcher side of the live view: the node verbs a page cannot ask a node to do to itself.

A node can install and heal its own network faults (`/_sim/faults`, which the page calls on every node), but it
cannot kill, pause, resume or start its own process: only something outside it can. `simcluster ui` serves those
verbs next to the page, on loopback, through the same `LocalCluster` the `simcluster node ...` commands use:

| request | answer |
| --- | --- |
| `GET /nodes` | `simcluster status --json` |
| `POST /nodes/{name}/{verb}` | `kill` (SIGKILL), `pause` (SIGSTOP), `resume` (SIGCONT) or `start` (waits until joined): `{"name": ..., "verb": ..., "result": ...}`; 404 for an unknown node, 409 for a node in the wrong state |

Every request carries the token that only the page's URL holds (`X-Simcluster-Token`), so no other web page in the
same browser can drive it; the answers allow cross-origin reads by pages served from this cluster's hosts. One verb
runs at a time, as from one terminal.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cluster.errors import ClusterError, NodeStateError, UnknownNodeError
from cluster.launcher import LocalCluster
from cluster.render import status_json
from node.common.origins import is_cluster_origin

__all__ = ["TOKEN_HEADER", "ControlServer", "page_url"]

TOKEN_HEADER = "X-Simcluster-Token"
_JOIN_TIMEOUT_S = 30.0


def page_url(node_http_url: str, control_url: str | None, token: str | None) -> str:
    """The live view on one node; the control endpoint and its token ride in the fragment, never sent to a node."""
    if control_url is None or token is None:
        return f"{node_http_url}/_sim/ui/"
    return f"{node_http_url}/_sim/ui/#control={control_url}&token={token}"


class ControlServer:
    """Serves the node verbs of one cluster on `host:port` (port 0: a free one, read back after binding).

    Args:
        cluster: the cluster the verbs act on (usually `LocalCluster.attach(home)`).
        token: the secret every request must carry; a random one by default.
    """

    def __init__(self, cluster: LocalCluster, *, host: str = "127.0.0.1", port: int = 0, token: str | None = None):
        self.cluster = cluster
        self.token = token or secrets.token_urlsafe(24)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler_class(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.25)

    def start(self) -> None:
        """Serves from a background thread (tests); `close` stops it."""
        self._thread = threading.Thread(target=self.serve_forever, name="simcluster-ui-control", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    # ---- the verbs ----------------------------------------------------------------------------------------------

    def status(self) -> str:
        with self._lock:
            return status_json(self.cluster.status())

    def run_verb(self, name: str, verb: str) -> str:
        """Runs one node verb and says what happened, in the words of `simcluster node VERB`.

        Raises:
            KeyError: no such verb.
            ClusterError: the launcher's own errors (unknown node, wrong state, a start that failed).
        """
        action = _VERBS[verb]
        with self._lock:
            return action(self.cluster, name)

    def allows_origin(self, origin: str) -> bool:
        """Whether `origin` is a page served from a host of this cluster's nodes."""
        return is_cluster_origin(origin, [r.http_address for r in self.cluster.nodes if r.http_address is not None])


def _kill(cluster: LocalCluster, name: str) -> str:
    return "killed (SIGKILL)" if cluster.kill_node(name) else "already down"


def _pause(cluster: LocalCluster, name: str) -> str:
    return "paused (SIGSTOP)" if cluster.pause_node(name) else "already paused"


def _resume(cluster: LocalCluster, name: str) -> str:
    return "resumed (SIGCONT)" if cluster.resume_node(name) else "was not paused"


def _start(cluster: LocalCluster, name: str) -> str:
    if not cluster.start_node(name, wait=True, timeout=_JOIN_TIMEOUT_S):
        return "already running"
    return "started, joined the cluster"


_VERBS: dict[str, Callable[[LocalCluster, str], str]] = {
    "kill": _kill,
    "pause": _pause,
    "resume": _resume,
    "start": _start,
}


def _handler_class(control: ControlServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "simcluster-ui"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the terminal of `simcluster ui` shows what the user does, not every request."""

        def do_OPTIONS(self) -> None:
            self._answer(HTTPStatus.NO_CONTENT, None, preflight=True)

        def do_GET(self) -> None:
            if not self._authorized():
                return
            if self.path.split("?")[0] != "/nodes":
                self._answer(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint [{self.path}]"})
                return
            self._answer(HTTPStatus.OK, json.loads(control.status()))

        def do_POST(self) -> None:
            if not self._authorized():
                return
            parts = self.path.split("?")[0].strip("/").split("/")
            if len(parts) != 3 or parts[0] != "nodes" or parts[2] not in _VERBS:
                verbs = ", ".join(_VERBS)
                self._answer(
                    HTTPStatus.NOT_FOUND, {"error": f"expected POST /nodes/NAME/VERB with VERB one of {verbs}"}
                )
                return
            name, verb = parts[1], parts[2]
            try:
                result = control.run_verb(name, verb)
            except UnknownNodeError as e:
                self._answer(HTTPStatus.NOT_FOUND, {"error": e.message})
            except NodeStateError as e:
                self._answer(HTTPStatus.CONFLICT, {"error": e.message})
            except ClusterError as e:
                self._answer(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": e.message})
            else:
                self._answer(HTTPStatus.OK, {"name": name, "verb": verb, "result": result})

        def _authorized(self) -> bool:
            given = self.headers.get(TOKEN_HEADER, "")
            if secrets.compare_digest(given.encode(), control.token.encode()):
                return True
            self._answer(HTTPStatus.FORBIDDEN, {"error": f"missing or wrong {TOKEN_HEADER} header"})
            return False

        def _answer(self, status: HTTPStatus, body: Any, *, preflight: bool = False) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            origin = self.headers.get("Origin")
            if origin is not None and control.allows_origin(origin):
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Vary", "Origin")
                if preflight:
                    self.send_header("Access-Control-Allow-Methods", "GET, POST")
                    self.send_header("Access-Control-Allow-Headers", TOKEN_HEADER)
                    self.send_header("Access-Control-Max-Age", "600")
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
