"""`GET /_sim/ui/`: the live view of the cluster, a static page served by every node (simulator-only).

The page ships inside the package (`rest/ui_static/`) and fetches nothing from elsewhere. It follows every node
through `GET /_sim/events` and acts through the nodes' own APIs (`POST /_tasks/{id}/_cancel`, `POST /_sim/tasks`,
`/_sim/faults`); stopping and starting node processes is done by `simcluster ui` on the launcher side.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

__all__ = ["ASSETS", "STATIC_DIR", "ui_asset", "ui_index", "ui_redirect"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "ui_static"
# Only these files are served: a request names one of them, never a path.
ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


def _file(name: str) -> web.FileResponse:
    if name not in ASSETS:
        raise web.HTTPNotFound()
    # FileResponse reads the file off the event loop; no-cache makes a browser revalidate after an upgrade.
    return web.FileResponse(STATIC_DIR / name, headers={"Content-Type": ASSETS[name], "Cache-Control": "no-cache"})


async def ui_redirect(request: web.Request) -> web.StreamResponse:
    return web.Response(status=301, headers={"Location": "/_sim/ui/"})


async def ui_index(request: web.Request) -> web.StreamResponse:
    return _file("index.html")


async def ui_asset(request: web.Request) -> web.StreamResponse:
    return _file(request.match_info["asset"])
