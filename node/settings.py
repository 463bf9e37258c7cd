"""Node settings the way Elasticsearch takes them: command line, environment, `simcluster.yml`, defaults.

A node needs no launcher: `python -m node` with no flags runs from settings with ES's names found in

1. **the environment**, as ES's Docker image reads it (`EnvironmentAwareCommand#putDockerEnvSettings`): a variable
   whose name is lower case with at least one dot (`cluster.name=x`) is that setting, and `ES_SETTING_CLUSTER_NAME`
   is `cluster.name` (`_` becomes `.`, `__` becomes `_`). In ES these are put into the map of `-E` settings after
   the command line was read, so **they win over `-E`**; simcluster does the same.
2. **the command line**: `-E name=value`, and the node's flags (`--cluster-name x` is `-E cluster.name=x`). One
   setting given twice there is an error, as in ES ("set twice via command line -E").
3. **`simcluster.yml`** in the config directory (`SIMCLUSTER_PATH_CONF`, ES `ES_PATH_CONF`; otherwise the data
   directory named on the command line or in the environment, otherwise `./data`): flat (`cluster.name: x`) or
   nested keys, lists as YAML lists or comma-separated strings, `${VAR}` replaced from the environment.
4. the defaults of `NodeConfig`.

A setting nobody knows is refused with ES's message; settings ES has that mean nothing here (`bootstrap.memory_lock`,
`xpack.security.enabled`, ...) are accepted and ignored, so ES's own compose files and manifests carry over.
Every error is an `IllegalArgumentError` with ES's wording, which `python -m node` prints and exits 1 on.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from node.config import (
    NodeConfig,
    PortRange,
    parse_byte_size,
    parse_duration_ms,
    parse_port_range,
)
from node.errors import IllegalArgumentError

__all__ = [
    "CONFIG_FILE_NAME",
    "DEFAULT_TRANSPORT_PORT",
    "IGNORED_SETTINGS",
    "PASSWORD_FILE_VARIABLE",
    "PATH_CONF_VARIABLE",
    "SETTINGS",
    "Setting",
    "config_dir",
    "environment_settings",
    "is_setting_variable",
    "node_config",
    "publish_host",
    "read_settings_file",
    "without_setting_variables",
]

CONFIG_FILE_NAME = "simcluster.yml"
PATH_CONF_VARIABLE = "SIMCLUSTER_PATH_CONF"
DEFAULT_TRANSPORT_PORT = 9300  # ES: a seed host without a port is probed on the default transport port

_LOWER_CASE_SETTING = re.compile(r"[-a-z0-9_]+(\.[-a-z0-9_]+)+")  # ES DOCKER_LOWERCASE_SETTING_REGEX
_UPPER_CASE_PREFIX = "ES_SETTING_"
_PLACEHOLDER = re.compile(r"\$\{([^}:]+)(?::([^}]*))?\}")
_ATTRIBUTE_PREFIX = "node.attr."

# ES settings a node accepts and ignores: they tune what simcluster does not have (a JVM, memory locking, licences,
# machine learning, disk watermarks) or what it always does (security on the transport).
IGNORED_SETTINGS = frozenset(
    {
        "bootstrap.memory_lock",
        "xpack.security.enabled",
        "xpack.security.enrollment.enabled",
        "xpack.security.transport.ssl.enabled",
        "xpack.security.transport.ssl.verification_mode",
        "xpack.security.http.ssl.enabled",
        "xpack.license.self_generated.type",
        "xpack.ml.enabled",
        "xpack.monitoring.collection.enabled",
        "xpack.watcher.enabled",
        "cluster.routing.allocation.disk.threshold_enabled",
        "ingest.geoip.downloader.enabled",
        "action.destructive_requires_name",
        "path.repo",
    }
)


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _list(value: Any) -> tuple[str, ...]:
    """ES list settings: a YAML list, or a comma-separated string (`[]` and the empty string are empty lists)."""
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        text = str(value).strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        items = text.split(",")
    return tuple(item.strip() for item in items if item.strip())


def _int(value: Any) -> int:
    text = _text(value).strip()
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(f"cannot parse [{text}] as an integer")
    return int(text)


def _path(value: Any) -> Path:
    text = _text(value).strip()
    if not text:
        raise ValueError("a path must not be empty")
    return Path(text)


def _host(value: Any) -> str:
    """ES `network.host`: an address or host name, `_local_` (loopback), `_site_` (this machine's address)."""
    text = _text(value).strip()
    if text in ("_local_", "_loopback_"):
        return "127.0.0.1"
    if text == "_site_":
        return _site_address()
    if not text:
        raise ValueError("a host must not be empty")
    return text


@dataclass(frozen=True, slots=True)
class Setting:
    """One ES setting a node reads: the `NodeConfig` field it sets and how its text becomes the field's value."""

    field: str
    parse: Callable[[Any], Any]


SETTINGS: Mapping[str, Setting] = {
    "node.name": Setting("name", lambda v: _text(v).strip()),
    "cluster.name": Setting("cluster_name", lambda v: _text(v).strip()),
    "path.data": Setting("data_dir", _path),
    "path.logs": Setting("log_file", lambda v: _path(v) / "node.log"),
    "network.host": Setting("host", _host),
    "network.publish_host": Setting("publish_host", _host),
    "http.port": Setting("http_port", lambda v: parse_port_range(_text(v))),
    "transport.port": Setting("transport_port", lambda v: parse_port_range(_text(v))),
    "discovery.seed_hosts": Setting("seed_hosts", _list),
    "discovery.type": Setting("discovery_type", lambda v: _text(v).strip()),
    "cluster.initial_master_nodes": Setting("initial_master_nodes", _list),
    "node.roles": Setting("roles", _list),
    "cluster.fault_detection.leader_check.interval": Setting("fd_interval_ms", lambda v: parse_duration_ms(_text(v))),
    "cluster.fault_detection.leader_check.timeout": Setting("fd_timeout_ms", lambda v: parse_duration_ms(_text(v))),
    "cluster.fault_detection.leader_check.retry_count": Setting("fd_retries", _int),
    "cluster.fault_detection.follower_check.interval": Setting("fd_interval_ms", lambda v: parse_duration_ms(_text(v))),
    "cluster.fault_detection.follower_check.timeout": Setting("fd_timeout_ms", lambda v: parse_duration_ms(_text(v))),
    "cluster.fault_detection.follower_check.retry_count": Setting("fd_retries", _int),
    "cluster.publish.timeout": Setting("publish_timeout_ms", lambda v: parse_duration_ms(_text(v))),
    "http.max_content_length": Setting("http_max_content_length", lambda v: parse_byte_size(_text(v))),
    "http.read_timeout": Setting("http_read_timeout_ms", lambda v: parse_duration_ms(_text(v))),
    "network.breaker.inflight_requests.limit": Setting("inflight_requests_limit", lambda v: parse_byte_size(_text(v))),
    "xpack.security.transport.ssl.key": Setting("transport_ssl_key", _path),
    "xpack.security.transport.ssl.certificate": Setting("transport_ssl_certificate", _path),
    "xpack.security.transport.ssl.certificate_authorities": Setting("transport_ssl_certificate_authorities", _path),
    "xpack.security.http.ssl.key": Setting("http_ssl_key", _path),
    "xpack.security.http.ssl.certificate": Setting("http_ssl_certificate", _path),
}
# Not a setting in ES either: the Docker image reads the password file from this variable.
PASSWORD_FILE_VARIABLE = "ELASTIC_PASSWORD_FILE"


def is_setting_variable(name: str) -> bool:
    """Whether an environment variable is read as a setting (so the launcher keeps it from the nodes it starts)."""
    return bool(_LOWER_CASE_SETTING.fullmatch(name)) or name.startswith(_UPPER_CASE_PREFIX)


def environment_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The settings in the environment, as ES's Docker image reads them (see the module docstring)."""
    settings: dict[str, str] = {}
    for name, value in environ.items():
        if _LOWER_CASE_SETTING.fullmatch(name):
            settings[name] = value
        elif name.startswith(_UPPER_CASE_PREFIX):
            key = name[len(_UPPER_CASE_PREFIX) :].replace("_", ".").replace("..", "_").lower()
            settings[key] = value
    return settings


def _flatten(prefix: str, value: Any, out: dict[str, Any], source: Path) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, out, source)
        return
    if prefix in out:
        raise IllegalArgumentError(f"duplicate settings key [{prefix}] found in [{source}]")
    out[prefix] = value


def _replace_placeholders(value: Any, environ: Mapping[str, str], key: str) -> Any:
    """ES `${VAR}` (and `${VAR:default}`) in a settings file, from the environment."""
    if isinstance(value, list):
        return [_replace_placeholders(v, environ, key) for v in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise IllegalArgumentError(f"Could not resolve placeholder '{name}' in setting [{key}]")

    return _PLACEHOLDER.sub(replace, value)


def read_settings_file(path: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings of a `simcluster.yml` (flat keys), or none when there is no such file.

    Raises:
        IllegalArgumentError: the file is not YAML, not a mapping, or repeats a key.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise IllegalArgumentError(f"failed to read settings file [{path}]: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise IllegalArgumentError(f"Failed to load settings from [{path}]: {e}") from None
    import yaml  # deferred: most nodes have no settings file, and the import costs start-up time

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise IllegalArgumentError(f"Failed to load settings from [{path}]: {e}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise IllegalArgumentError(f"Failed to load settings from [{path}]: the file must hold a mapping of settings")
    flat: dict[str, Any] = {}
    _flatten("", document, flat, path)
    # A key without a value (`path.data:`) is unset, as ES reads a null setting.
    return {key: _replace_placeholders(value, environ, key) for key, value in flat.items() if value is not None}


def config_dir(command_line: Mapping[str, Any], environ: Mapping[str, str]) -> Path:
    """Where `simcluster.yml` is looked for: `SIMCLUSTER_PATH_CONF`, else the data directory as named on the
    command line or in the environment, else `./data` (the default data directory)."""
    if environ.get(PATH_CONF_VARIABLE):
        return Path(environ[PATH_CONF_VARIABLE])
    data = environment_settings(environ).get("path.data") or command_line.get("path.data")
    return Path(_text(data)) if data else Path("data")


def _site_address() -> str:
    """This machine's address as its host name resolves (a container's or pod's own IP), else loopback."""
    try:
        addresses = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET, socket.SOCK_STREAM)
    except OSError:
        return "127.0.0.1"
    for *_, sockaddr in addresses:
        if not ipaddress.ip_address(sockaddr[0]).is_loopback:
            return str(sockaddr[0])
    return "127.0.0.1"


def publish_host(config: NodeConfig) -> str:
    """The address a node tells others to reach it at (ES `network.publish_host`): the bind address, unless that
    is a wildcard (`0.0.0.0`, `::`), which no peer can dial; then this machine's own address."""
    if config.publish_host:
        return config.publish_host
    try:
        wildcard = ipaddress.ip_address(config.host).is_unspecified
    except ValueError:
        wildcard = False
    return _site_address() if wildcard else config.host


def _seed_address(item: str, default_port: int) -> list[str]:
    """`host`, `host:port`, `host:9300-9302`, `[::1]:9300`: ES's seed host syntax, port ranges expanded."""
    text = item.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
        host = f"[{host}]"
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    if not host:
        raise ValueError(f"invalid seed host [{item}]")
    ports = parse_port_range(port_text).ports() if port_text else range(default_port, default_port + 1)
    return [f"{host}:{port}" for port in ports]


def _check_known(settings: Iterable[str], source: str) -> None:
    for key in settings:
        if key in SETTINGS or key in IGNORED_SETTINGS or key.startswith(_ATTRIBUTE_PREFIX):
            continue
        raise IllegalArgumentError(
            f"unknown setting [{key}]{source} please check that any required plugins are installed, or check the"
            " breaking changes documentation for removed settings"
        )


def node_config(
    command_line: Mapping[str, Any],
    environ: Mapping[str, str],
    *,
    fields: Mapping[str, Any] | None = None,
) -> NodeConfig:
    """Builds a node's `NodeConfig` from its settings, in ES's order (environment > command line > file > defaults).

    Args:
        command_line: `-E` settings and the node's flags, by ES setting name.
        environ: the process environment (settings, `ELASTIC_PASSWORD_FILE`, `${VAR}` placeholders, `HOSTNAME`).
        fields: `NodeConfig` fields with no ES setting (simulator knobs such as `es_version`), from flags.

    Raises:
        IllegalArgumentError: an unknown setting, a value that does not parse, or settings that contradict.
    """
    environment = environment_settings(environ)
    file = read_settings_file(config_dir(command_line, environ) / CONFIG_FILE_NAME, environ)
    _check_known(file, "")
    _check_known(command_line, "")
    _check_known(environment, " (from the environment)")
    merged: dict[str, Any] = {**file, **command_line, **environment}
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    attributes: dict[str, str] = {}
    for key, raw in merged.items():
        if key.startswith(_ATTRIBUTE_PREFIX):
            attributes[key[len(_ATTRIBUTE_PREFIX) :]] = _text(raw)
            continue
        setting = SETTINGS.get(key)
        if setting is None:
            continue  # ignored
        try:
            value = setting.parse(raw)
        except (ValueError, IllegalArgumentError) as e:
            reason = e.reason if isinstance(e, IllegalArgumentError) else str(e)
            raise IllegalArgumentError(f"Failed to parse value [{_text(raw)}] for setting [{key}]: {reason}") from None
        if setting.field in values and values[setting.field] != value:
            raise IllegalArgumentError(
                f"setting [{key}] is [{_text(raw)}] but [{origin[setting.field]}] is [{_text(merged[origin[setting.field]])}]:"
                " simcluster uses one value for leader and follower checks"
            )
        values[setting.field] = value
        origin[setting.field] = key
    if attributes:
        values["attributes"] = tuple(sorted(attributes.items()))
    if environ.get(PASSWORD_FILE_VARIABLE):
        values["elastic_password_file"] = Path(environ[PASSWORD_FILE_VARIABLE])
    discovery_type = values.pop("discovery_type", "multi-node")
    values.setdefault("name", environ.get("HOSTNAME") or socket.gethostname())
    values.setdefault("data_dir", Path("data"))
    transport: PortRange = values.get("transport_port", PortRange(9300, 9399))
    default_port = transport.first or DEFAULT_TRANSPORT_PORT
    try:
        values["seed_hosts"] = tuple(
            dict.fromkeys(a for item in values.get("seed_hosts", ()) for a in _seed_address(item, default_port))
        )
    except ValueError as e:
        raise IllegalArgumentError(f"Failed to parse value for setting [discovery.seed_hosts]: {e}") from None
    if discovery_type == "single-node":
        # ES: a single-node cluster elects itself and never looks for peers.
        if values.get("initial_master_nodes"):
            raise IllegalArgumentError(
                "setting [cluster.initial_master_nodes] is not allowed when [discovery.type] is set to [single-node]"
            )
        values["initial_master_nodes"] = (values["name"],)
        values["seed_hosts"] = ()
    elif discovery_type != "multi-node":
        raise IllegalArgumentError(f"Unknown discovery type [{discovery_type}]")
    try:
        return NodeConfig(**{**values, **(fields or {})})
    except ValueError as e:
        raise IllegalArgumentError(str(e)) from None


def without_setting_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` minus every variable a node would read as a setting (and the password file): the launcher starts
    nodes from its own plan, which a stray `cluster.name` in the user's shell must not override."""
    kept = (PASSWORD_FILE_VARIABLE, PATH_CONF_VARIABLE)
    return {k: v for k, v in environ.items() if not is_setting_variable(k) and k not in kept}
