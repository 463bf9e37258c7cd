"""Pure planning of a local cluster: node names, port ranges, seed hosts, and the config of each start.

Port plan, after OpenSearch's `./gradlew run -PnumNodes`: node *i* (0-based) prefers HTTP `BASE+i` and transport
`BASE+i`, and is given the range up to `BASE+i+99` so a port that is taken moves it to the next free one, as ES's
`http.port: 9200-9300` does. Seed hosts are the *preferred* transport ports of the other nodes. A base of `0` means
ephemeral ports: the kernel picks, and the launcher seeds the later nodes with the first node's real address.
A node started later on its own (`simcluster node start`, `node add`) is also seeded with the real addresses of the
nodes running then, wherever they are.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cluster.state import ClusterFile, ClusterHome
from node.config import DEFAULT_ROLES, NodeConfig, PortRange

__all__ = [
    "ALL_MASTER_ELIGIBLE_UP_TO",
    "DATA_ROLES",
    "DEDICATED_MASTERS",
    "LAUNCHER_OWNED_FIELDS",
    "MASTER_ROLES",
    "PORT_RANGE_WIDTH",
    "added_node_config",
    "default_masters",
    "initial_master_nodes",
    "new_node_configs",
    "next_node_name",
    "node_names",
    "on_free_ports",
    "port_range",
    "seed_hosts",
    "start_config",
]

PORT_RANGE_WIDTH = 100
_MAX_PORT = 65535

# Fields the launcher decides itself; overriding them would break the home layout, the bootstrap or the credentials
# (the cluster's own, in its home: `cluster.credentials`).
LAUNCHER_OWNED_FIELDS = frozenset(
    {
        "name",
        "data_dir",
        "cluster_name",
        "host",
        "initial_master_nodes",
        "watch_stdin",
        "transport_ssl_key",
        "transport_ssl_certificate",
        "transport_ssl_certificate_authorities",
        "http_ssl_key",
        "http_ssl_certificate",
        "elastic_password_file",
    }
)


def node_names(count: int) -> tuple[str, ...]:
    """`node-1` … `node-N`: 1-based like ES's docker recipe (`es01`), so `node-1` is the first node."""
    if count < 1:
        raise ValueError(f"a cluster needs at least one node, got {count}")
    return tuple(f"node-{i}" for i in range(1, count + 1))


def port_range(base: int, index: int) -> PortRange:
    """The ports node `index` may bind: `base+index` first, then the next free up to 99 further (`0`: ephemeral)."""
    if base == 0:
        return PortRange(0, 0)
    first = base + index
    if not 0 < first <= _MAX_PORT:
        raise ValueError(f"port {first} for node {index} is out of range (base {base})")
    return PortRange(first, min(first + PORT_RANGE_WIDTH - 1, _MAX_PORT))


def on_free_ports(configs: Sequence[NodeConfig], is_free: Callable[[str, int], bool]) -> list[NodeConfig]:
    """`configs` with each HTTP and transport range starting at its first port that is free now and not another
    node's.

    Seeds name the ports the nodes will bind, also when a preferred port is taken (by another cluster started on
    the default ports, say): otherwise a second cluster's nodes would all seed the first cluster's ports, and never
    find each other. Node *i* also keeps the *i*-th free HTTP port. Ephemeral ranges (`0`) stay as they are.
    """
    taken: set[tuple[str, int]] = set()

    def first_free(host: str, ports: PortRange) -> PortRange:
        if ports.first == 0:
            return ports
        first = next((p for p in ports.ports() if (host, p) not in taken and is_free(host, p)), ports.first)
        taken.add((host, first))
        return PortRange(first, ports.last)

    return [
        c.with_changes(http_port=first_free(c.host, c.http_port), transport_port=first_free(c.host, c.transport_port))
        for c in configs
    ]


def seed_hosts(configs: Sequence[NodeConfig], name: str) -> tuple[str, ...]:
    """The preferred transport addresses of every master-eligible node but `name` (empty for ephemeral ports,
    seeded later): ES's advice for `discovery.seed_hosts`, as only master-eligible nodes lead to a master."""
    return tuple(
        f"{c.host}:{c.transport_port.first}"
        for c in configs
        if c.name != name and c.transport_port.first != 0 and c.is_master_eligible
    )


# Up to this many nodes, every node is master-eligible (ES's default roles); beyond, `up` starts this many dedicated
# master-eligible nodes and data nodes, as ES recommends for larger clusters: every master-eligible node probes
# every other during discovery and votes on every publication.
ALL_MASTER_ELIGIBLE_UP_TO = 10
DEDICATED_MASTERS = 3
MASTER_ROLES: tuple[str, ...] = ("master",)
DATA_ROLES: tuple[str, ...] = ("data", "ingest")


def default_masters(count: int) -> int:
    """How many master-eligible nodes a new cluster of `count` nodes gets when `--masters` is not given."""
    return count if count <= ALL_MASTER_ELIGIBLE_UP_TO else DEDICATED_MASTERS


def initial_master_nodes(configs: Sequence[NodeConfig]) -> tuple[str, ...]:
    """Names of the master-eligible nodes, which bootstrap a brand-new cluster together."""
    names = tuple(c.name for c in configs if c.is_master_eligible)
    if not names:
        raise ValueError("a cluster needs at least one master-eligible node")
    return names


def new_node_configs(
    home: ClusterHome,
    count: int,
    *,
    cluster_name: str,
    http_port: int,
    transport_port: int,
    host: str = "127.0.0.1",
    node_defaults: Mapping[str, Any] | None = None,
    node_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    masters: int | None = None,
) -> tuple[NodeConfig, ...]:
    """The stored configs of a new cluster: names, data directories under the home, port ranges, settings.

    Args:
        host: the address every node binds (`--host`).
        masters: how many nodes, the first ones, are master-eligible; when fewer than all, they are dedicated
            (`master` only) and the others are data nodes (`data`, `ingest`). Default: `default_masters(count)`.
        node_defaults: `NodeConfig` fields applied to every node (e.g. short failure-detection intervals).
        node_overrides: per node name, `NodeConfig` fields applied after the defaults (e.g. `{"node-3":
            {"roles": ("data",)}}`).
    """
    names = node_names(count)
    masters = default_masters(count) if masters is None else masters
    if not 1 <= masters <= count:
        raise ValueError(f"--masters must be between 1 and the number of nodes ({count}), got {masters}")
    unknown_names = sorted(set(node_overrides or {}) - set(names))
    if unknown_names:
        raise ValueError(f"node_overrides names unknown node [{unknown_names[0]}]; nodes are {', '.join(names)}")
    configs = []
    for index, name in enumerate(names):
        roles = {} if masters == count else {"roles": MASTER_ROLES if index < masters else DATA_ROLES}
        settings = {**roles, **(node_defaults or {}), **(node_overrides or {}).get(name, {})}
        _check_settings(settings)
        base = NodeConfig(
            name=name,
            data_dir=home.node_dir(name),
            cluster_name=cluster_name,
            host=host,
            http_port=port_range(http_port, index),
            transport_port=port_range(transport_port, index),
        )
        configs.append(dataclasses.replace(base, **settings))
    initial_master_nodes(configs)
    return tuple(configs)


def _check_settings(settings: Mapping[str, Any]) -> None:
    fields = {f.name for f in dataclasses.fields(NodeConfig) if f.init}
    for key in settings:
        if key not in fields:
            raise ValueError(f"unknown NodeConfig field [{key}]")
        if key in LAUNCHER_OWNED_FIELDS:
            raise ValueError(f"[{key}] is set by the launcher and cannot be overridden")


def start_config(
    config: NodeConfig,
    all_configs: Sequence[NodeConfig],
    *,
    bootstrapped: bool,
    detached: bool,
    seed_addresses: Sequence[str] = (),
) -> NodeConfig:
    """The config of one start: the stored config plus seeds, bootstrap names (first formation only) and stdin.

    Seed hosts already in `config` (given through `node_defaults`, never stored) are probed too, after the
    cluster's own, as extra `discovery.seed_hosts` would be: e.g. to point a new cluster at another one's nodes.

    Args:
        seed_addresses: real transport addresses of running nodes, seeded before the preferred ports: the first
            node's for the rest of an ephemeral-port cluster, every running node's for a node started on its own.
    """
    preferred = seed_hosts(all_configs, config.name)
    real = tuple(dict.fromkeys(a for a in seed_addresses if a))
    seeds = tuple(dict.fromkeys((*real, *preferred, *config.seed_hosts)))
    return config.with_changes(
        seed_hosts=seeds,
        initial_master_nodes=() if bootstrapped else initial_master_nodes(all_configs),
        watch_stdin=not detached,
    )


_NUMBERED = re.compile(r"node-([0-9]+)")


def next_node_name(names: Sequence[str]) -> str:
    """The name `simcluster node add` gives: one past the highest `node-N`, so no name is handed out twice while
    its predecessor is still listed."""
    numbers = [int(m.group(1)) for m in map(_NUMBERED.fullmatch, names) if m is not None]
    return f"node-{max(numbers, default=0) + 1}"


def added_node_config(
    home: ClusterHome, state: ClusterFile, name: str, *, roles: Sequence[str] | None = None
) -> NodeConfig:
    """The stored config of a node joining a running cluster (`simcluster node add`).

    Cluster-wide settings (cluster name, host, version, failure detection, timeouts) come from the first node;
    roles default to ES's defaults; ports follow the port plan at the node's position in the cluster.
    """
    if not state.nodes:
        raise ValueError("a cluster needs at least one node to add another to")
    template = state.nodes[0].config
    index = len(state.nodes)
    return template.with_changes(
        name=name,
        data_dir=home.node_dir(name),
        http_port=port_range(state.http_port, index),
        transport_port=port_range(state.transport_port, index),
        roles=tuple(DEFAULT_ROLES if roles is None else roles),
        attributes=(),
        log_file=None,
    )
