"""`python -m node`: start one node process (what `simcluster up` spawns, and `simcluster node run`)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from node.config import (
    DEFAULT_VERSION,
    NodeConfig,
    parse_byte_size,
    parse_duration_ms,
    parse_port_range,
    parse_seed_hosts,
)

__all__ = ["main"]

T = TypeVar("T")
_F = TypeVar("_F", bound=Callable[..., Any])


def _convert(parse: Callable[[str], T], value: str, param: click.Parameter | None, ctx: click.Context | None) -> T:
    try:
        return parse(value)
    except ValueError as e:
        raise click.BadParameter(str(e), ctx=ctx, param=param) from None


def _path_option(flag: str, setting: str, help_text: str) -> Callable[[_F], _F]:
    """A file flag that can also come from the environment under its ES setting name, as ES's Docker image reads
    `xpack.security.*` settings (and `ELASTIC_PASSWORD_FILE`) from environment variables."""
    return click.option(
        flag, type=click.Path(path_type=Path, dir_okay=False), default=None, envvar=setting, show_envvar=True,
        help=help_text,
    )  # fmt: skip


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--name", required=True, help="Node name, unique in the cluster.")
@click.option("--data-dir", required=True, type=click.Path(path_type=Path), help="Node id, state and results.")
@click.option("--cluster-name", default="simcluster", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address both servers bind.")
@click.option("--http-port", default="9200-9299", show_default=True, help="Port or range; 0 for ephemeral.")
@click.option("--transport-port", default="9300-9399", show_default=True, help="Port or range; 0 for ephemeral.")
@click.option("--seed-hosts", default="", help="Comma-separated host:port (or host:first-last) to discover.")
@click.option("--initial-master-nodes", default="", help="Comma-separated names that bootstrap a new cluster.")
@click.option("--roles", default="data,ingest,master", show_default=True, help="Comma-separated; empty: none.")
@click.option("--attr", "attrs", multiple=True, help="Node attribute key=value (repeatable).")
@click.option("--log-file", type=click.Path(path_type=Path), default=None, help="Default: DATA_DIR/logs/node.log")
@click.option("--watch-stdin/--no-watch-stdin", default=False, help="Exit when standard input closes.")
@click.option("--es-version", default=DEFAULT_VERSION, show_default=True, help="Version reported by GET /.")
@click.option("--fd-interval", default="1s", show_default=True, help="Leader/follower check interval.")
@click.option("--fd-timeout", default="1s", show_default=True, help="Leader/follower check timeout.")
@click.option("--fd-retries", default=3, show_default=True, type=int, help="Failed checks before a node is out.")
@click.option("--election-delay", default="100ms", show_default=True, help="Upper bound of the election jitter.")
@click.option("--publish-timeout", default="30s", show_default=True, help="Cluster-state publication timeout.")
@_path_option("--transport-ssl-key", "xpack.security.transport.ssl.key", "PEM key of the transport's mutual TLS.")
@_path_option("--transport-ssl-certificate", "xpack.security.transport.ssl.certificate", "PEM certificate of that key.")
@_path_option(
    "--transport-ssl-certificate-authorities",
    "xpack.security.transport.ssl.certificate_authorities",
    "PEM CA certificate that peers' transport certificates must chain to.",
)
@_path_option("--http-ssl-key", "xpack.security.http.ssl.key", "PEM key for HTTPS on the REST API.")
@_path_option("--http-ssl-certificate", "xpack.security.http.ssl.certificate", "PEM certificate for HTTPS.")
@_path_option(
    "--elastic-password-file", "ELASTIC_PASSWORD_FILE", "File holding the elastic user's password: require auth."
)
@click.option(
    "--node-request-timeout",
    default="5s",
    show_default=True,
    help="How long a fan-out waits for each node when the request sets no timeout; -1: until fault detection.",
)
@click.option("--http-max-content-length", default="100mb", show_default=True, help="Larger bodies get 413.")
@click.option("--http-read-timeout", default="30s", show_default=True, help="Close connections silent this long.")
@click.option("--inflight-requests-limit", default="256mb", show_default=True, help="Request bytes breaker limit.")
def main(
    name: str,
    data_dir: Path,
    cluster_name: str,
    host: str,
    http_port: str,
    transport_port: str,
    seed_hosts: str,
    initial_master_nodes: str,
    roles: str,
    attrs: tuple[str, ...],
    log_file: Path | None,
    watch_stdin: bool,
    es_version: str,
    fd_interval: str,
    fd_timeout: str,
    fd_retries: int,
    election_delay: str,
    publish_timeout: str,
    transport_ssl_key: Path | None,
    transport_ssl_certificate: Path | None,
    transport_ssl_certificate_authorities: Path | None,
    http_ssl_key: Path | None,
    http_ssl_certificate: Path | None,
    elastic_password_file: Path | None,
    node_request_timeout: str,
    http_max_content_length: str,
    http_read_timeout: str,
    inflight_requests_limit: str,
) -> None:
    """Run one simcluster node: a gRPC transport server and an Elasticsearch-like REST server on one event loop."""
    attributes = []
    for item in attrs:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got [{item}]", param_hint="--attr")
        attributes.append((key, value))
    try:
        config = NodeConfig(
            name=name,
            data_dir=data_dir,
            cluster_name=cluster_name,
            host=host,
            http_port=_convert(parse_port_range, http_port, None, None),
            transport_port=_convert(parse_port_range, transport_port, None, None),
            seed_hosts=_convert(parse_seed_hosts, seed_hosts, None, None),
            initial_master_nodes=tuple(n.strip() for n in initial_master_nodes.split(",") if n.strip()),
            roles=tuple(r.strip() for r in roles.split(",") if r.strip()),
            attributes=tuple(attributes),
            log_file=log_file,
            watch_stdin=watch_stdin,
            es_version=es_version,
            fd_interval_ms=_convert(parse_duration_ms, fd_interval, None, None),
            fd_timeout_ms=_convert(parse_duration_ms, fd_timeout, None, None),
            fd_retries=fd_retries,
            election_delay_ms=_convert(parse_duration_ms, election_delay, None, None),
            publish_timeout_ms=_convert(parse_duration_ms, publish_timeout, None, None),
            transport_ssl_key=transport_ssl_key,
            transport_ssl_certificate=transport_ssl_certificate,
            transport_ssl_certificate_authorities=transport_ssl_certificate_authorities,
            http_ssl_key=http_ssl_key,
            http_ssl_certificate=http_ssl_certificate,
            elastic_password_file=elastic_password_file,
            node_request_timeout_ms=_convert(parse_duration_ms, node_request_timeout, None, None),
            http_max_content_length=_convert(parse_byte_size, http_max_content_length, None, None),
            http_read_timeout_ms=_convert(parse_duration_ms, http_read_timeout, None, None),
            inflight_requests_limit=_convert(parse_byte_size, inflight_requests_limit, None, None),
        )
    except ValueError as e:
        raise click.UsageError(str(e)) from None

    from node.server import run_node  # deferred: `--help` should not pay for importing grpc and aiohttp

    sys.exit(asyncio.run(run_node(config)))
