"""`simcluster node ...` and `simcluster logs`: one node's lifecycle on a running cluster, and the nodes' logs.

The verbs are ccm's (`node1 stop|start|pause|resume`, `add`, `remove`, `showlog`) and minikube's `node` group:

| verb | what it does |
| --- | --- |
| `node kill NAME [--signal S]` | SIGKILL (or S) to the node's process group, as a crash |
| `node stop NAME` | SIGTERM, then SIGKILL after `--timeout` |
| `node start NAME` | starts a down node with its data directory, so the same node id; waits until it joined |
| `node restart NAME` | stop, then start |
| `node pause NAME` / `node resume NAME` | SIGSTOP / SIGCONT: alive but silent, like a long GC pause |
| `node add [--roles R]` | a new node `node-N+1` joins the running cluster |
| `node remove NAME` | stops a node and forgets it (and, unless `--keep-data`, deletes its directory) |
| `logs [-f] [-n N] [NAME]` | the JSON log lines of one node, or of all merged by time and prefixed by name |

Verbs that find the node already in the state asked for (killing a dead node, pausing a paused one) say so and
succeed, like `docker start` on a running container.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from cluster.cli_options import home_option
from cluster.launcher import LocalCluster
from cluster.logs import follow_logs, merge_logs, prefixed, read_log
from cluster.process import StopOutcome, child_environment
from cluster.state import NodeRecord
from node.config import KNOWN_ROLES

__all__ = ["logs", "node"]

_F = TypeVar("_F", bound=Callable[..., Any])

_SIGNALS = ("KILL", "TERM", "INT", "HUP", "QUIT")
_STOP_TEXT = {
    StopOutcome.STOPPED: "stopped",
    StopOutcome.KILLED: "killed (did not stop in time after SIGTERM)",
    StopOutcome.ALREADY_DOWN: "already down",
}


def _wait_options(f: _F) -> _F:
    f = click.option(
        "--timeout", type=click.FloatRange(min=1), default=30.0, show_default=True, help="Seconds to join."
    )(f)
    return click.option("--no-wait", is_flag=True, help="Return once the node is up, before it joined.")(f)


def _started(record: NodeRecord, waited: bool) -> str:
    joined = ", joined the cluster" if waited else ""
    return f"pid {record.pid}, http {record.http_address}, transport {record.transport_address}{joined}"


@click.group()
def node() -> None:
    """Act on one node process: kill, stop, start, restart, pause, resume, add, remove."""


@node.command(
    "run",
    short_help="Run one node in the foreground (`python -m node` flags).",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("node_args", nargs=-1, type=click.UNPROCESSED)
def node_run(node_args: tuple[str, ...]) -> NoReturn:
    """Run one node in the foreground from its settings: the environment (`cluster.name=x`), `-E` and the node's own
    flags (`simcluster node run --help` lists them), simcluster.yml."""
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "node", *node_args], child_environment(settings=True))


@node.command("kill", short_help="Kill a node (SIGKILL), as a crash.")
@click.argument("name")
@home_option
@click.option(
    "-s", "--signal", "signal_name", type=click.Choice(_SIGNALS), default="KILL", show_default=True,
    help="The signal to send.",
)  # fmt: skip
def node_kill(name: str, home: Path, signal_name: str) -> None:
    """Send SIGKILL (or --signal) to node NAME: it dies at once, as in a crash; its data stays."""
    sig = signal.Signals[f"SIG{signal_name}"]
    done = LocalCluster.attach(home).kill_node(name, sig)
    click.echo(
        f"{name}: {'killed' if sig is signal.SIGKILL else 'sent'} ({sig.name})" if done else f"{name}: already down"
    )


@node.command("stop", short_help="Stop a node gracefully (SIGTERM).")
@click.argument("name")
@home_option
@click.option(
    "--timeout", type=click.FloatRange(min=0), default=10.0, show_default=True, help="Seconds before SIGKILL."
)
def node_stop(name: str, home: Path, timeout: float) -> None:
    """Stop node NAME: SIGTERM, then SIGKILL after --timeout; its data stays."""
    click.echo(f"{name}: {_STOP_TEXT[LocalCluster.attach(home).stop_node(name, timeout)]}")


@node.command("start", short_help="Start a node that is down (same data, same node id).")
@click.argument("name")
@home_option
@_wait_options
def node_start(name: str, home: Path, no_wait: bool, timeout: float) -> None:
    """Start node NAME again with its data directory, so with its node id, and wait until it joined the cluster."""
    cluster = LocalCluster.attach(home)
    if not cluster.start_node(name, wait=not no_wait, timeout=timeout):
        click.echo(f"{name}: already running (pid {cluster.node(name).pid})")
        return
    click.echo(f"{name}: started ({_started(cluster.node(name), not no_wait)})")


@node.command("restart", short_help="Stop a node, then start it again.")
@click.argument("name")
@home_option
@_wait_options
@click.option(
    "--stop-timeout", type=click.FloatRange(min=0), default=10.0, show_default=True, help="Seconds before SIGKILL."
)
def node_restart(name: str, home: Path, no_wait: bool, timeout: float, stop_timeout: float) -> None:
    """Restart node NAME: SIGTERM (SIGKILL after --stop-timeout), then start it with the same data directory."""
    cluster = LocalCluster.attach(home, stop_timeout=stop_timeout)
    outcome = cluster.restart_node(name, wait=not no_wait, timeout=timeout)
    click.echo(f"{name}: {_STOP_TEXT[outcome]}, then started ({_started(cluster.node(name), not no_wait)})")


@node.command("pause", short_help="Freeze a node (SIGSTOP).")
@click.argument("name")
@home_option
def node_pause(name: str, home: Path) -> None:
    """Freeze node NAME with SIGSTOP: its process and connections stay, but it answers nothing until resumed."""
    paused = LocalCluster.attach(home).pause_node(name)
    click.echo(f"{name}: paused (SIGSTOP)" if paused else f"{name}: already paused")


@node.command("resume", short_help="Unfreeze a paused node (SIGCONT).")
@click.argument("name")
@home_option
def node_resume(name: str, home: Path) -> None:
    """Resume a paused node NAME with SIGCONT."""
    resumed = LocalCluster.attach(home).resume_node(name)
    click.echo(f"{name}: resumed (SIGCONT)" if resumed else f"{name}: was not paused")


@node.command("add", short_help="Start a new node that joins the running cluster.")
@home_option
@click.option(
    "--roles", default=None, help="Comma-separated roles; empty for coordinating-only.  [default: data,ingest,master]"
)
@_wait_options
def node_add(home: Path, roles: str | None, no_wait: bool, timeout: float) -> None:
    """Start a new node, named after the highest `node-N`, seeded with the running nodes (no bootstrapping)."""
    role_list = None if roles is None else [r.strip() for r in roles.split(",") if r.strip()]
    unknown = sorted(set(role_list or ()) - KNOWN_ROLES)
    if unknown:
        raise click.BadParameter(f"unknown role [{unknown[0]}]", param_hint="--roles")
    record = LocalCluster.attach(home).add_node(roles=role_list, wait=not no_wait, timeout=timeout)
    click.echo(f"{record.name}: added ({_started(record, not no_wait)})")


@node.command("remove", short_help="Stop a node and remove it from the cluster.")
@click.argument("name")
@home_option
@click.option("--keep-data", is_flag=True, help="Keep the node's directory (data and logs).")
def node_remove(name: str, home: Path, keep_data: bool) -> None:
    """Stop node NAME and remove it from cluster.json (and delete its directory unless --keep-data).

    As with a plain shutdown in ES, a master-eligible node stays in the voting configuration: removing half of
    the master-eligible nodes leaves the rest without a quorum.
    """
    cluster = LocalCluster.attach(home)
    record = cluster.node(name)
    outcome = cluster.remove_node(name, keep_data=keep_data)
    data = f"data kept in {record.data_dir}" if keep_data else "its directory is deleted"
    click.echo(f"{name}: {_STOP_TEXT[outcome]} and removed from cluster [{cluster.cluster_name}]; {data}")


@click.command(short_help="Print the nodes' JSON log lines.")
@click.argument("name", required=False)
@home_option
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until Ctrl-C.")
@click.option("-n", "--lines", "last", type=click.IntRange(min=0), default=None, help="Only the last N lines per node.")
def logs(name: str | None, home: Path, follow: bool, last: int | None) -> None:
    """Print the JSON log lines of node NAME, or of every node merged by time and prefixed with its name."""
    cluster = LocalCluster.attach(home)
    records = [cluster.node(name)] if name is not None else list(cluster.nodes)
    width = max(len(r.name) for r in records)

    def line_of(node_name: str, line: str) -> str:
        return line if name is not None else prefixed(node_name, line, width)

    for node_name, line in merge_logs({r.name: read_log(r.log_file, last) for r in records}):
        click.echo(line_of(node_name, line))
    if not follow:
        return
    try:
        for node_name, line in follow_logs({r.name: r.log_file for r in records}):
            click.echo(line_of(node_name, line))
    except KeyboardInterrupt:
        if sys.stderr.isatty():
            click.echo("", err=True)
