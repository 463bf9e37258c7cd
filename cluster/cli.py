"""`simcluster`: start, inspect and stop a local cluster of node processes, and disrupt it.

The verbs follow what users of ccm, docker compose and minikube expect (`up`, `status`, `endpoints`, `down`, `logs`,
and a `node` group for per-node verbs, in `cluster.cli_node`), plus blockade's and Jepsen's network faults and
seeded chaos runs (`fault`, `chaos`, in `cluster.cli_faults`). Every command acts on a cluster home (`--home`,
`$SIMCLUSTER_HOME`, default `./.simcluster`) through `LocalCluster`, the same class the tests use. These modules only
parse, print and map errors: every failure is one line on stderr with exit code 1, never a traceback.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click

from cluster.cli_faults import chaos, fault
from cluster.cli_node import logs, node
from cluster.cli_options import SimclusterGroup, home_flag, home_option
from cluster.cli_ui import ui
from cluster.credentials import ClusterCredentials
from cluster.launcher import LocalCluster
from cluster.process import StopOutcome
from cluster.progress import ProgressLine
from cluster.render import endpoints_text, security_banner, status_json, status_table
from cluster.state import ClusterHome
from node.config import is_loopback_host

__all__ = ["cli", "main"]

_DEFAULTS: dict[str, Any] = {
    "nodes": 3,
    "cluster_name": "simcluster",
    "http_port": 9200,
    "transport_port": 9300,
    "host": "127.0.0.1",
    "security": False,
}
_OUTCOME_TEXT = {
    StopOutcome.STOPPED: "stopped",
    StopOutcome.KILLED: "killed (did not stop in time after SIGTERM)",
    StopOutcome.ALREADY_DOWN: "already down",
}


class _Terminated(Exception):
    """SIGTERM or SIGHUP reached the foreground `up`: stop the nodes as for Ctrl-C."""


@click.group(cls=SimclusterGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="simcluster", prog_name="simcluster")
def cli() -> None:
    """Run a simulated Elasticsearch cluster of local node processes."""


@cli.command(short_help="Start the cluster and wait until it formed.")
@click.option("-n", "--nodes", type=click.IntRange(min=1), default=None, help="Number of nodes.  [default: 3]")
@home_option
@click.option(
    "--http-port", type=click.IntRange(0, 65535), default=None, help="Base HTTP port; 0: ephemeral.  [default: 9200]"
)
@click.option(
    "--transport-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Base transport port; 0: ephemeral.  [default: 9300]",
)
@click.option("--cluster-name", default=None, help="cluster.name of every node.  [default: simcluster]")
@click.option("--host", default=None, help="Address every node binds.  [default: 127.0.0.1]")
@click.option(
    "--security/--no-security",
    default=None,
    help="HTTPS with the cluster CA and basic auth as the elastic user, as ES 9 by default.  [default: off]",
)
@click.option(
    "--masters", type=click.IntRange(min=1), default=None,
    help="Master-eligible nodes (the first ones); fewer than --nodes: dedicated masters, the rest data nodes."
    "  [default: every node up to 10, else 3]",
)  # fmt: skip
@click.option(
    "--hosts", is_flag=True,
    help="Every node in a network namespace of its own, with its own address on a bridge (Linux, root).",
)  # fmt: skip
@click.option("-d", "--detach", is_flag=True, help="Return once the cluster formed and leave it running.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=None,
    help="Seconds to form.  [default: 60, more for big clusters]",
)
def up(
    nodes: int | None,
    home: Path,
    http_port: int | None,
    transport_port: int | None,
    cluster_name: str | None,
    host: str | None,
    security: bool | None,
    masters: int | None,
    hosts: bool,
    detach: bool,
    timeout: float | None,
) -> None:
    """Start the cluster (or restart the one in --home) and wait until all nodes formed it.

    In the foreground (default) the nodes live as long as this command: Ctrl-C stops them all. Node i prefers
    HTTP port BASE+i and transport port BASE+i and moves to the next free port when one is taken. The home holds
    the cluster's credentials: nodes talk to each other over mutual TLS, and with --security clients need HTTPS
    (trusting <home>/certs/ca.crt) and the elastic user's password, printed on the first start.
    """
    # Options left out mean "as before" for an existing home; `LocalCluster` refuses ones that contradict it.
    stored = ClusterHome(home).load_if_exists()
    held = _DEFAULTS if stored is None else {
        "nodes": len(stored.nodes),
        "cluster_name": stored.cluster_name,
        "http_port": stored.http_port,
        "transport_port": stored.transport_port,
        "host": stored.host,
        "security": stored.security,
    }  # fmt: skip
    given = {
        "nodes": nodes,
        "cluster_name": cluster_name,
        "http_port": http_port,
        "transport_port": transport_port,
        "host": host,
        "security": security,
    }
    settings: dict[str, Any] = {key: held[key] if value is None else value for key, value in given.items()}
    if not is_loopback_host(settings["host"]) and not settings["security"]:
        click.echo(
            f"warning: binding to [{settings['host']}] without --security: anyone who can reach this machine can"
            " read and change the cluster through the REST API of every node (the transport stays closed: mutual"
            " TLS with the cluster's certificates)",
            err=True,
        )
    # On stderr, so stdout keeps only the table (and scripts reading it are not disturbed).
    progress = ProgressLine(sys.stderr)
    cluster = LocalCluster(
        home,
        settings["nodes"],
        cluster_name=settings["cluster_name"],
        http_port=settings["http_port"],
        transport_port=settings["transport_port"],
        host=settings["host"],
        security=settings["security"],
        masters=masters,
        hosts=hosts,
        detach=detach,
        start_timeout=_start_timeout(settings["nodes"]),
        progress=progress.update,
    )
    if timeout is None:
        timeout = _start_timeout(settings["nodes"])
    _raise_on_termination()
    formed = False
    try:
        try:
            cluster.start()
            cluster.wait_until_formed(timeout)
        finally:
            progress.close()
        formed = True
        click.echo(status_table(cluster.status(), with_state=False))
        if cluster.security:
            credentials = cluster.credentials
            click.echo(
                security_banner(
                    ca_certificate=credentials.ca_certificate,
                    fingerprint=credentials.ca_fingerprint(),
                    password_file=credentials.elastic_password_file,
                    new_password=cluster.new_elastic_password,
                    url=next(iter(cluster.endpoints()), "https://localhost:9200"),
                )
            )
        if detach:
            click.echo(
                f"cluster [{cluster.cluster_name}] keeps running in the background;"
                f" stop it with `simcluster down{home_flag(home)}`"
            )
            return
        click.echo(f"cluster [{cluster.cluster_name}] is up with {len(cluster.names)} nodes; press Ctrl-C to stop it")
        _watch_nodes(cluster)
    except KeyboardInterrupt:
        if sys.stderr.isatty():
            click.echo("", err=True)  # the terminal echoed ^C without a newline
    except _Terminated:
        pass
    except BaseException:
        _ignore_termination()
        cluster.stop()
        raise
    _ignore_termination()
    _report_stop(cluster, cluster.stop(), formed)


def _start_timeout(nodes: int) -> float:
    """60 s, plus a second per node beyond 20: a hundred processes start on two cores in about half a minute."""
    return 60.0 + max(0, nodes - 20)


def _watch_nodes(cluster: LocalCluster) -> None:
    """Reports nodes that exit (a killed node is a state, not the end) until none is left."""
    while cluster.running():
        for name, code in cluster.wait_for_exits(timeout=None).items():
            click.echo(f"{name} exited ({_describe_exit(code)})", err=True)


def _report_stop(cluster: LocalCluster, outcomes: dict[str, StopOutcome], formed: bool) -> None:
    where = f"data kept in {cluster.home.root}"
    if not formed:
        _exit(f"interrupted; stopped the nodes of cluster [{cluster.cluster_name}] ({where})")
    stopped = [name for name, outcome in outcomes.items() if outcome is not StopOutcome.ALREADY_DOWN]
    if not stopped:
        _exit(f"every node of cluster [{cluster.cluster_name}] has exited; {where}", 1)
    killed = [name for name, outcome in outcomes.items() if outcome is StopOutcome.KILLED]
    sigkill = f" ({', '.join(killed)} needed SIGKILL)" if killed else ""
    count = f"{len(stopped)} node{'' if len(stopped) == 1 else 's'}"
    click.echo(f"stopped {count} of cluster [{cluster.cluster_name}]{sigkill}; {where}")


@cli.command(short_help="Show each node's state, id, pid, addresses, roles and the master.")
@home_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document instead of a table.")
def status(home: Path, as_json: bool) -> None:
    """Show every node: state (UP, DOWN, PAUSED, UNRESPONSIVE), id, pid, addresses, roles, master."""
    current = LocalCluster.attach(home).status()
    if as_json:
        click.echo(status_json(current))
        return
    click.echo(f"cluster [{current.cluster_name}] in {current.home}")
    click.echo(status_table(current, with_state=True))


@cli.command(short_help="Print the HTTP endpoints of the running nodes.")
@home_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["env", "json", "plain"]),
    default="env",
    show_default=True,
    help="env: ES_HOSTS=url,url; plain: one URL a line; json: names, URLs and transport addresses.",
)
def endpoints(home: Path, output_format: str) -> None:
    """Print the HTTP endpoints of the running nodes, e.g. `eval $(simcluster endpoints)`."""
    cluster = LocalCluster.attach(home)
    running = set(cluster.running())
    records = [record for record in cluster.nodes if record.name in running and record.http_url]
    if not records:
        raise click.ClickException(
            f"no node of cluster [{cluster.cluster_name}] is running; start it with `simcluster up{home_flag(home)}`"
        )
    click.echo(endpoints_text(records, output_format))


@cli.command(short_help="Stop every node; the data is kept.")
@home_option
@click.option(
    "--timeout", type=click.FloatRange(min=0), default=10.0, show_default=True, help="Seconds before SIGKILL."
)
def down(home: Path, timeout: float) -> None:
    """Stop every node (SIGTERM, then SIGKILL after --timeout); data is kept, so `up` restarts the same cluster."""
    cluster = LocalCluster.attach(home, stop_timeout=timeout)
    for name, outcome in cluster.stop().items():
        click.echo(f"{name}: {_OUTCOME_TEXT[outcome]}")


@cli.command(short_help="Create a cluster's credentials in a directory, for nodes started without `up`.")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="An address the HTTPS certificate is valid for.")
@click.option("--security", is_flag=True, help="Also the elastic user's password (DIRECTORY/elastic-password).")
def certs(directory: Path, host: str, security: bool) -> None:
    """Create what `up` creates in a cluster home: DIRECTORY/certs/ with the CA, the transport certificate every
    node presents and the HTTPS certificate (and, with --security, the password file). Existing files are kept.

    Containers and pods mount them and name them in the xpack.security.transport.ssl.* settings (see the README's
    compose and Kubernetes sections).
    """
    credentials = ClusterCredentials(directory)
    password = credentials.ensure(host=host, security=security)
    for path in sorted(credentials.certs_dir.iterdir()):
        click.echo(str(path))
    if security:
        click.echo(str(credentials.elastic_password_file))
    if password is not None:
        click.echo(f"the elastic user's password: {password}", err=True)


cli.add_command(node)
cli.add_command(logs)
cli.add_command(fault)
cli.add_command(chaos)
cli.add_command(ui)


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "closed its stdout"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def _on_termination(signum: int, frame: FrameType | None) -> None:
    raise _Terminated(signal.Signals(signum).name)


def _raise_on_termination() -> None:
    # SIGINT explicitly too: a shell that starts us in the background without job control ignores it otherwise.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_termination)


def _ignore_termination() -> None:
    """Once stopping has begun, a second Ctrl-C or SIGTERM must not abandon the nodes half-stopped."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def _exit(message: str, code: int = 130) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def main() -> None:
    """Console-script entry point: click's own errors as `Error: ...`, anything unexpected as one line too."""
    try:
        cli.main(prog_name="simcluster")
    except Exception as e:  # noqa: BLE001 - deliberately broad: the promise is one line, never a traceback
        click.echo(f"Error: unexpected {type(e).__name__}: {e}", err=True)
        sys.exit(1)
