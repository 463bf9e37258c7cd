"""`simcluster ui`: open the live view of the cluster, and serve its chaos controls while it is open.

Every node serves the page at `/_sim/ui/`; this command picks a node that is up, starts the control endpoint
(`cluster.ui_control`: kill, pause, resume, start) on loopback, prints the page's URL (with the endpoint and its
token in the fragment) and opens it in a browser where there is one. Ctrl-C stops the controls; the page itself
keeps working without them, minus those four verbs.
"""

from __future__ import annotations

import os
import sys
import webbrowser
from pathlib import Path

import click

from cluster.cli_options import home_option
from cluster.launcher import LocalCluster
from cluster.state import NodeState, NodeStatus
from cluster.ui_control import ControlServer, page_url

__all__ = ["open_browser", "ui"]


def open_browser(url: str) -> bool:
    """Opens `url` in a graphical browser; False when there is none (no display: a console browser such as w3m
    would take over the terminal, so it is never tried)."""
    graphical = sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if not graphical:
        return False
    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False


def _serving_node(nodes: tuple[NodeStatus, ...], name: str | None) -> NodeStatus:
    up = [n for n in nodes if n.state is NodeState.UP and n.http_url is not None]
    if name is None:
        if not up:
            raise click.ClickException("no node is up to serve the live view; start the cluster with `simcluster up`")
        return up[0]
    chosen = next((n for n in nodes if n.name == name), None)
    if chosen is None:
        raise click.ClickException(f"no node named [{name}]; the cluster has {', '.join(n.name for n in nodes)}")
    if chosen not in up:
        raise click.ClickException(f"{name} is {chosen.state.value}; pick a node that is up")
    return chosen


@click.command(short_help="Open the live view of the cluster in a browser.")
@home_option
@click.option("--node", "node_name", default=None, help="The node whose page to open.  [default: the first one up]")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True,
    help="Port of the chaos controls on 127.0.0.1; 0: any free port.",
)  # fmt: skip
@click.option("--no-browser", is_flag=True, help="Only print the URL.")
def ui(home: Path, node_name: str | None, port: int, no_browser: bool) -> None:
    """Open the live view (nodes, shards, task trees, timeline) and serve its kill, pause, resume and start
    buttons until Ctrl-C. Every node serves the page at /_sim/ui/ without this command too."""
    cluster = LocalCluster.attach(home)
    serving = _serving_node(cluster.status().nodes, node_name)
    control = ControlServer(cluster, port=port)
    url = page_url(str(serving.http_url), control.url, control.token)
    click.echo(f"live view of cluster [{cluster.cluster_name}] on {serving.name}: {url}")
    if not no_browser and not open_browser(url):
        click.echo("no browser to open here: open that URL in yours")
    click.echo(f"serving the kill, pause, resume and start buttons from {control.url}; Ctrl-C stops them")
    try:
        control.serve_forever()
    except KeyboardInterrupt:
        if sys.stderr.isatty():
            click.echo("", err=True)
    finally:
        control.close()
