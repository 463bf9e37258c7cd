"""`python -m node`: start one node process (what `simcluster up` spawns, and `simcluster node run`)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from node.config import DEFAULT_VERSION, parse_duration_ms
from node.errors import IllegalArgumentError
from node.settings import node_config

__all__ = ["main"]

_F = TypeVar("_F", bound=Callable[..., Any])

# Flags that are another spelling of an ES setting (`--cluster-name x` is `-E cluster.name=x`).
_SETTING_FLAGS: dict[str, tuple[str, ...]] = {
    "name": ("node.name",),
    "data_dir": ("path.data",),
    "cluster_name": ("cluster.name",),
    "host": ("network.host",),
    "publish_host": ("network.publish_host",),
    "http_port": ("http.port",),
    "transport_port": ("transport.port",),
    "seed_hosts": ("discovery.seed_hosts",),
    "initial_master_nodes": ("cluster.initial_master_nodes",),
    "roles": ("node.roles",),
    "fd_interval": ("cluster.fault_detection.leader_check.interval", "cluster.fault_detection.follower_check.interval"),
    "fd_timeout": ("cluster.fault_detection.leader_check.timeout", "cluster.fault_detection.follower_check.timeout"),
    "fd_retries": (
        "cluster.fault_detection.leader_check.retry_count",
        "cluster.fault_detection.follower_check.retry_count",
    ),
    "publish_timeout": ("cluster.publish.timeout",),
    "transport_ssl_key": ("xpack.security.transport.ssl.key",),
    "transport_ssl_certificate": ("xpack.security.transport.ssl.certificate",),
    "transport_ssl_certificate_authorities": ("xpack.security.transport.ssl.certificate_authorities",),
    "http_ssl_key": ("xpack.security.http.ssl.key",),
    "http_ssl_certificate": ("xpack.security.http.ssl.certificate",),
    "http_max_content_length": ("http.max_content_length",),
    "http_read_timeout": ("http.read_timeout",),
    "inflight_requests_limit": ("network.breaker.inflight_requests.limit",),
}


def _setting_option(flag: str, help_text: str) -> Callable[[_F], _F]:
    return click.option(flag, default=None, help=help_text)


def _command_line(flags: dict[str, Any], attrs: tuple[str, ...], e_settings: tuple[str, ...]) -> dict[str, str]:
    """The command-line settings: `-E name=value` and the flags, by ES name; one setting twice is an error."""
    settings: dict[str, str] = {}

    def put(key: str, value: str, how: str) -> None:
        if key in settings:
            raise IllegalArgumentError(f"setting [{key}] set twice via command line {how}")
        settings[key] = value

    for item in e_settings:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise IllegalArgumentError(f"setting [{item}] must be in the form key=value")
        if not value:
            raise IllegalArgumentError(f"setting [{key}] must not be empty")
        put(key, value, "-E")
    for flag, keys in _SETTING_FLAGS.items():
        if flags.get(flag) is not None:
            for key in keys:
                put(key, str(flags[flag]), f"-E and --{flag.replace('_', '-')}")
    for item in attrs:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise IllegalArgumentError(f"expected key=value for --attr, got [{item}]")
        put(f"node.attr.{key}", value, "-E and --attr")
    return settings


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-E", "e_settings", multiple=True, metavar="SETTING=VALUE", help="An ES setting (repeatable).")
@_setting_option("--name", "node.name; default: the host name.")
@_setting_option("--data-dir", "path.data: node id, state and results; default: ./data.")
@_setting_option("--cluster-name", "cluster.name; default: simcluster.")
@_setting_option("--host", "network.host: the address both servers bind; default: 127.0.0.1.")
@_setting_option("--publish-host", "network.publish_host: the address told to others; default: the bind address.")
@_setting_option("--http-port", "http.port: port or range, 0 for ephemeral; default: 9200-9299.")
@_setting_option("--transport-port", "transport.port: port or range, 0 for ephemeral; default: 9300-9399.")
@_setting_option("--seed-hosts", "discovery.seed_hosts: comma-separated host[:port] (port may be a range).")
@_setting_option("--initial-master-nodes", "cluster.initial_master_nodes: names that bootstrap a new cluster.")
@_setting_option("--roles", "node.roles, comma-separated; empty: none; default: data,ingest,master.")
@click.option("--attr", "attrs", multiple=True, help="node.attr.KEY: a node attribute key=value (repeatable).")
@click.option("--log-file", type=click.Path(path_type=Path), default=None, help="Default: DATA_DIR/logs/node.log")
@click.option("--watch-stdin/--no-watch-stdin", default=False, help="Exit when standard input closes.")
@click.option("--es-version", default=DEFAULT_VERSION, show_default=True, help="Version reported by GET /.")
@_setting_option("--fd-interval", "Leader/follower check interval (cluster.fault_detection.*); default: 1s.")
@_setting_option("--fd-timeout", "Leader/follower check timeout; default: 1s.")
@_setting_option("--fd-retries", "Failed checks before a node is out; default: 3.")
@click.option("--election-delay", default="100ms", show_default=True, help="Upper bound of the election jitter.")
@_setting_option("--publish-timeout", "cluster.publish.timeout; default: 30s.")
@_setting_option("--transport-ssl-key", "xpack.security.transport.ssl.key: PEM key of the transport's mutual TLS.")
@_setting_option("--transport-ssl-certificate", "xpack.security.transport.ssl.certificate: PEM certificate.")
@_setting_option(
    "--transport-ssl-certificate-authorities",
    "xpack.security.transport.ssl.certificate_authorities: PEM CA that peers' certificates must chain to.",
)
@_setting_option("--http-ssl-key", "xpack.security.http.ssl.key: PEM key for HTTPS on the REST API.")
@_setting_option("--http-ssl-certificate", "xpack.security.http.ssl.certificate: PEM certificate for HTTPS.")
@click.option(
    "--elastic-password-file", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="File holding the elastic user's password (ELASTIC_PASSWORD_FILE): require auth.",
)  # fmt: skip
@click.option(
    "--node-request-timeout",
    default="5s",
    show_default=True,
    help="How long a fan-out waits for each node when the request sets no timeout; -1: until fault detection.",
)
@_setting_option("--http-max-content-length", "http.max_content_length: larger bodies get 413; default: 100mb.")
@_setting_option("--http-read-timeout", "http.read_timeout: close connections silent this long; default: 30s.")
@_setting_option("--inflight-requests-limit", "network.breaker.inflight_requests.limit; default: 256mb.")
def main(
    e_settings: tuple[str, ...],
    attrs: tuple[str, ...],
    log_file: Path | None,
    watch_stdin: bool,
    es_version: str,
    election_delay: str,
    elastic_password_file: Path | None,
    node_request_timeout: str,
    **flags: Any,
) -> None:
    """Run one simcluster node: a gRPC transport server and an Elasticsearch-like REST server on one event loop.

    Settings come from the environment (`cluster.name=x`, `ES_SETTING_CLUSTER_NAME=x`, as ES's Docker image reads
    them), then the command line (`-E cluster.name=x` or the flags), then `simcluster.yml` in $SIMCLUSTER_PATH_CONF
    or the data directory, then the defaults.
    """
    try:
        fields: dict[str, Any] = {
            "watch_stdin": watch_stdin,
            "es_version": es_version,
            "election_delay_ms": _duration("--election-delay", election_delay),
            "node_request_timeout_ms": _duration("--node-request-timeout", node_request_timeout),
        }
        if log_file is not None:
            fields["log_file"] = log_file
        if elastic_password_file is not None:
            fields["elastic_password_file"] = elastic_password_file
        config = node_config(_command_line(flags, attrs, e_settings), os.environ, fields=fields)
    except IllegalArgumentError as e:
        click.echo(f"error: {e.es_type}: {e.reason}", err=True)
        sys.exit(1)

    from node.server import run_node  # deferred: `--help` should not pay for importing grpc and aiohttp

    sys.exit(asyncio.run(run_node(config)))


def _duration(flag: str, text: str) -> int:
    try:
        return parse_duration_ms(text)
    except ValueError as e:
        raise IllegalArgumentError(f"Failed to parse value [{text}] for [{flag}]: {e}") from None
