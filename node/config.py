"""Configuration of one node process.

`NodeConfig` is built once from the node's settings (`node.settings`: environment, command line, `simcluster.yml`)
and passed explicitly to every component that needs a slice of it. The launcher (`cluster.launcher`) builds the same dataclass and turns it back into flags with
`to_argv`, so the two can never drift apart. Failure-detection intervals, timeouts and HTTP limits are ordinary
fields so tests can shrink them.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from node.common.roles import DEFAULT_ROLES, KNOWN_ROLES
from node.common.time_value import parse_time_value
from node.errors import IllegalArgumentError

__all__ = [
    "DEFAULT_ROLES",
    "DEFAULT_VERSION",
    "KNOWN_ROLES",
    "TRANSPORT_TLS_SERVER_NAME",
    "NodeConfig",
    "PortRange",
    "is_loopback_host",
    "parse_byte_size",
    "parse_duration_ms",
    "parse_port_range",
    "parse_seed_hosts",
]

DEFAULT_VERSION = "9.1.0"

# The name in every node's transport certificate, which peers verify instead of the address they dialled (ES
# `xpack.security.transport.ssl.verification_mode: certificate`): the cluster's CA is what is trusted, whatever
# `--host` is, so one certificate serves every node and any bind address.
TRANSPORT_TLS_SERVER_NAME = "transport.simcluster"


@dataclass(frozen=True, slots=True)
class PortRange:
    """A port or an inclusive range of ports; the node binds the first free one, as ES's `http.port: 9200-9300`."""

    first: int
    last: int

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"

    def ports(self) -> range:
        return range(self.first, self.last + 1)


def parse_port_range(text: str) -> PortRange:
    """Parses `9200`, `9200-9299` or `0` (an ephemeral port chosen by the kernel)."""
    first, sep, last = text.strip().partition("-")
    try:
        lo = int(first)
        hi = int(last) if sep else lo
    except ValueError:
        raise ValueError(f"invalid port or port range [{text}]") from None
    if not (0 <= lo <= 65535 and 0 <= hi <= 65535) or hi < lo or (lo == 0 and hi != 0):
        raise ValueError(f"invalid port or port range [{text}]")
    return PortRange(lo, hi)


def parse_seed_hosts(text: str) -> tuple[str, ...]:
    """Expands `127.0.0.1:9300-9302,127.0.0.1:9400` into single `host:port` addresses."""
    hosts: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        host, sep, port_text = item.rpartition(":")
        if not sep or not host:
            raise ValueError(f"invalid seed host [{item}]: expected host:port")
        for port in parse_port_range(port_text).ports():
            hosts.append(f"{host}:{port}")
    return tuple(hosts)


def is_loopback_host(host: str) -> bool:
    """Whether binding `host` keeps a server reachable from this machine only (`127.0.0.1`, `::1`, `localhost`).

    A host name other than `localhost` counts as beyond loopback: what it resolves to can change.
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_duration_ms(text: str) -> int:
    """A duration flag (`500ms`, `1s`) in milliseconds, parsed as ES parses time settings.

    Raises:
        ValueError: not an ES time value (the CLI turns it into a usage error).
    """
    try:
        return parse_time_value(text, "duration").millis
    except IllegalArgumentError as e:
        raise ValueError(f"invalid duration [{text}]: {e.reason}") from None


_BYTE_UNITS = {"b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40, "pb": 1 << 50}


def parse_byte_size(text: str) -> int:
    """Parses a byte size the way ES `ByteSizeValue` reads whole values (`100mb`, `512kb`, `1gb`, `0b`)."""
    value = text.strip().lower()
    for unit in ("pb", "tb", "gb", "mb", "kb", "b"):
        if value.endswith(unit) and value[: -len(unit)].strip().isdigit():
            return int(value[: -len(unit)]) * _BYTE_UNITS[unit]
    raise ValueError(f"invalid byte size [{text}]: expected a whole number with one of b, kb, mb, gb, tb, pb")


def _byte_size_flag(size: int) -> str:
    """The largest unit that writes `size` exactly, so that `parse_byte_size` reads back the same value."""
    for unit in ("pb", "tb", "gb", "mb", "kb"):
        if size and size % _BYTE_UNITS[unit] == 0:
            return f"{size // _BYTE_UNITS[unit]}{unit}"
    return f"{size}b"


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """Everything one node process needs to start.

    Attributes:
        name: node name (`node-1`), unique within the cluster.
        data_dir: where the node keeps its id, its coordination state and stored task results.
        http_port / transport_port: a port or a range; the first free port of the range is bound.
        seed_hosts: transport addresses probed to discover the cluster.
        initial_master_nodes: names of the master-eligible nodes that bootstrap a brand-new cluster.
        host: the address both servers bind (ES `network.host`).
        publish_host: the address other nodes and clients are told (ES `network.publish_host`); by default the
            bind address, or this machine's own address when that is a wildcard (`node.settings.publish_host`).
        roles: sorted role names; empty for a coordinating-only node.
        attributes: custom node attributes (`zone=a`).
        watch_stdin: shut down when standard input reaches EOF, so nodes die with a foreground launcher.
        fd_interval_ms / fd_timeout_ms / fd_retries: leader and follower checks, as ES's
            `cluster.fault_detection.*` settings.
        transport_ssl_key / transport_ssl_certificate / transport_ssl_certificate_authorities: PEM files of the
            transport's mutual TLS, ES `xpack.security.transport.ssl.{key,certificate,certificate_authorities}`.
            Required to start: a node never serves its transport to callers without the cluster's certificate.
        http_ssl_key / http_ssl_certificate: PEM files for HTTPS on the REST API, ES
            `xpack.security.http.ssl.{key,certificate}`; plain HTTP without them.
        elastic_password_file: a file holding the `elastic` user's password (ES Docker's `ELASTIC_PASSWORD_FILE`);
            with it, every REST request needs basic authentication as `elastic`.
        node_request_timeout_ms: how long a fan-out waits for each node (nodes and tasks actions, a forwarded
            get-task, stored-result lookups, shard reads beyond their simulated work) when the request sets no
            `timeout`; -1: no bound, as in ES, where such a fan-out waits until fault detection removes the node.
        http_max_content_length: ES `http.max_content_length` (100mb): a larger body is answered 413.
        http_read_timeout_ms: ES `http.read_timeout`: a connection that sends nothing for this long, idle or
            half-way through a request, is closed. ES leaves it off (0) by default; simcluster closes idle and
            slow clients after 30s, so a pile of silent connections cannot hold a node. 0 turns it off.
        inflight_requests_limit: ES `network.breaker.inflight_requests.limit`, which defaults to the whole heap;
            here 256mb stands in for a small node's heap. Request bodies are counted against it (twice, ES's
            default overhead) while they are read and handled; a request that would pass it gets 429.
    """

    name: str
    data_dir: Path
    cluster_name: str = "simcluster"
    host: str = "127.0.0.1"
    publish_host: str | None = None
    http_port: PortRange = PortRange(9200, 9299)
    transport_port: PortRange = PortRange(9300, 9399)
    seed_hosts: tuple[str, ...] = ()
    initial_master_nodes: tuple[str, ...] = ()
    roles: tuple[str, ...] = DEFAULT_ROLES
    attributes: tuple[tuple[str, str], ...] = ()
    log_file: Path | None = None
    watch_stdin: bool = False
    es_version: str = DEFAULT_VERSION
    fd_interval_ms: int = 1000
    fd_timeout_ms: int = 1000
    fd_retries: int = 3
    election_delay_ms: int = 100
    publish_timeout_ms: int = 30_000
    transport_ssl_key: Path | None = None
    transport_ssl_certificate: Path | None = None
    transport_ssl_certificate_authorities: Path | None = None
    http_ssl_key: Path | None = None
    http_ssl_certificate: Path | None = None
    elastic_password_file: Path | None = None
    node_request_timeout_ms: int = 5_000
    http_max_content_length: int = 100 << 20
    http_read_timeout_ms: int = 30_000
    inflight_requests_limit: int = 256 << 20
    attributes_dict: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name or any(c in self.name for c in ", :"):
            raise ValueError(f"invalid node name [{self.name}]")
        unknown = sorted(set(self.roles) - KNOWN_ROLES)
        if unknown:
            raise ValueError(f"unknown role [{unknown[0]}]")
        object.__setattr__(self, "roles", tuple(sorted(set(self.roles))))
        object.__setattr__(self, "attributes_dict", dict(self.attributes))
        for value, what in ((self.fd_interval_ms, "fd interval"), (self.fd_timeout_ms, "fd timeout")):
            if value <= 0:
                raise ValueError(f"{what} must be positive")
        if self.fd_retries < 1:
            raise ValueError("fd retries must be at least 1")
        if (self.http_ssl_key is None) != (self.http_ssl_certificate is None):
            raise ValueError("HTTPS needs both [xpack.security.http.ssl.key] and [xpack.security.http.ssl.certificate]")
        if self.node_request_timeout_ms <= 0 and self.node_request_timeout_ms != -1:
            raise ValueError("node request timeout must be positive, or -1 for none")
        for value, what in ((self.http_max_content_length, "http max content length"),
                            (self.http_read_timeout_ms, "http read timeout"),
                            (self.inflight_requests_limit, "in-flight requests limit")):  # fmt: skip
            if value < 0:
                raise ValueError(f"{what} must not be negative")

    @property
    def is_master_eligible(self) -> bool:
        return "master" in self.roles

    @property
    def http_ssl_enabled(self) -> bool:
        """ES `xpack.security.http.ssl.enabled`: the REST API is served over HTTPS."""
        return self.http_ssl_certificate is not None

    @property
    def authentication_enabled(self) -> bool:
        """Every REST request must authenticate as the `elastic` user (ES's reserved realm)."""
        return self.elastic_password_file is not None

    @property
    def log_path(self) -> Path:
        return self.log_file if self.log_file is not None else self.data_dir / "logs" / "node.log"

    def with_changes(self, **changes: object) -> NodeConfig:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def to_argv(self) -> list[str]:
        """The flags of `python -m node` that rebuild this exact config (see `node.cli`)."""
        argv = [
            "--name", self.name,
            "--data-dir", str(self.data_dir),
            "--cluster-name", self.cluster_name,
            "--host", self.host,
            "--http-port", str(self.http_port),
            "--transport-port", str(self.transport_port),
            "--roles", ",".join(self.roles),
            "--es-version", self.es_version,
            "--fd-interval", f"{self.fd_interval_ms}ms",
            "--fd-timeout", f"{self.fd_timeout_ms}ms",
            "--fd-retries", str(self.fd_retries),
            "--election-delay", f"{self.election_delay_ms}ms",
            "--publish-timeout", f"{self.publish_timeout_ms}ms",
            "--node-request-timeout", "-1" if self.node_request_timeout_ms == -1 else f"{self.node_request_timeout_ms}ms",
            "--http-max-content-length", _byte_size_flag(self.http_max_content_length),
            "--http-read-timeout", f"{self.http_read_timeout_ms}ms",
            "--inflight-requests-limit", _byte_size_flag(self.inflight_requests_limit),
        ]  # fmt: skip
        if self.seed_hosts:
            argv += ["--seed-hosts", ",".join(self.seed_hosts)]
        if self.initial_master_nodes:
            argv += ["--initial-master-nodes", ",".join(self.initial_master_nodes)]
        for key, value in self.attributes:
            argv += ["--attr", f"{key}={value}"]
        if self.log_file is not None:
            argv += ["--log-file", str(self.log_file)]
        if self.publish_host is not None:
            argv += ["--publish-host", self.publish_host]
        for flag, path in (
            ("--transport-ssl-key", self.transport_ssl_key),
            ("--transport-ssl-certificate", self.transport_ssl_certificate),
            ("--transport-ssl-certificate-authorities", self.transport_ssl_certificate_authorities),
            ("--http-ssl-key", self.http_ssl_key),
            ("--http-ssl-certificate", self.http_ssl_certificate),
            ("--elastic-password-file", self.elastic_password_file),
        ):
            if path is not None:
                argv += [flag, str(path)]
        argv.append("--watch-stdin" if self.watch_stdin else "--no-watch-stdin")
        return argv
