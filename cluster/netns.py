"""Real hosts on one machine: every node in its own network namespace, on a bridge (`simcluster up --hosts`).

Each node of a `--hosts` cluster runs in a network namespace of its own, with one interface (`eth0`, one end of a
veth pair whose other end is on a bridge the launcher creates) and one address of a private /24, so every byte
between nodes crosses a real interface and the kernel's network stack, and every node binds the ports a real host
would (HTTP 9200, transport 9300). The bridge has the subnet's `.254`, so the launcher, the CLI and tests reach
each node from the root namespace at its own address.

Kernel faults sit beside the transport's own (`simcluster fault ... --kernel`), the way Jepsen and Chaos Mesh
inject them: an nftables table `inet simcluster` in the *sending* node's namespace holds two sets of peer
addresses, packets to the first are dropped (a black hole: TCP retransmits until the caller's deadline) and TCP to
the second is answered with a reset (a disconnect: fails at once); elements with a duration expire in the kernel.
A node isolated with `--kind disconnect` has its link set down (a pulled cable). Nothing here uses `iptables`.

What exists is recorded in `<home>/network.json` before it is created, so it can always be removed: by `down`
(with the nodes), by a watcher that fate-shares with a foreground `up` (`python -m cluster.netns watch HOME`, which
tears the network down when the launcher's pipe closes, even after a SIGKILL), and by the next start on the same
home. Names derive from the home, so two clusters never share a namespace, bridge or subnet:
namespaces `sc<tag>-<i>`, bridge `scbr<tag>`, host ends of the veths `scv<tag>-<i>`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cluster.errors import ClusterError

__all__ = [
    "NETWORK_FILE",
    "HostNetwork",
    "HostsUnavailableError",
    "KernelFault",
    "check_hosts_support",
    "schedule_heal",
    "start_watcher",
]

NETWORK_FILE = "network.json"
HTTP_PORT = 9200
TRANSPORT_PORT = 9300
_MAX_NODES = 253
_TABLE = "simcluster"
_COMMAND_TIMEOUT_S = 20.0


class HostsUnavailableError(ClusterError):
    """`--hosts` cannot work here: not Linux, not root, or `ip`/`nft` missing."""


def check_hosts_support() -> None:
    """Raises `HostsUnavailableError` with what is missing, so `up --hosts` says so and exits."""
    if not sys.platform.startswith("linux"):
        raise HostsUnavailableError("--hosts needs Linux: it puts every node in a network namespace of its own")
    if os.geteuid() != 0:
        raise HostsUnavailableError(
            "--hosts needs root: it creates network namespaces, a bridge and nftables rules (run it as root, or"
            " without --hosts)"
        )
    missing = [tool for tool in ("ip", "nft") if shutil.which(tool) is None]
    if missing:
        raise HostsUnavailableError(
            f"--hosts needs {' and '.join(missing)} (Debian packages iproute2 and nftables); not found on PATH"
        )


def _run(args: Sequence[str], *, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            list(args), input=stdin, capture_output=True, text=True, timeout=_COMMAND_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise ClusterError(f"`{' '.join(args)}` did not finish within {_COMMAND_TIMEOUT_S:g}s") from None
    if check and result.returncode != 0:
        raise ClusterError(f"`{' '.join(args)}` failed: {result.stderr.strip() or result.returncode}")
    return result


@dataclass(frozen=True, slots=True)
class KernelFault:
    """One kernel rule: packets of `source` to `target` dropped (`blackhole`) or reset (`disconnect`), or
    `source`'s link down (`link-down`, no target); until `expires` (a `time.time()`), or healed."""

    id: str
    kind: str
    source: str
    target: str | None = None
    expires: float | None = None

    def live(self, now: float) -> bool:
        return self.expires is None or self.expires > now


@dataclass(frozen=True, slots=True)
class HostNetwork:
    """The namespaces, addresses and bridge of one `--hosts` cluster, and the kernel faults in force.

    Attributes:
        tag: six hex digits from the home's path, in every name.
        subnet: the /24's first three octets (`10.213.7`): node i has `.i`, the bridge `.254`.
        nodes: node names, in address order.
    """

    home: Path
    tag: str
    subnet: str
    nodes: tuple[str, ...]
    faults: tuple[KernelFault, ...] = ()

    # -- naming ---------------------------------------------------------------------------------------------------

    @property
    def bridge(self) -> str:
        return f"scbr{self.tag}"

    @property
    def gateway(self) -> str:
        return f"{self.subnet}.254"

    def _index(self, name: str) -> int:
        return self.nodes.index(name) + 1

    def namespace(self, name: str) -> str:
        return f"sc{self.tag}-{self._index(name)}"

    def address(self, name: str) -> str:
        return f"{self.subnet}.{self._index(name)}"

    def host_link(self, name: str) -> str:
        return f"scv{self.tag}-{self._index(name)}"

    # -- the file -------------------------------------------------------------------------------------------------

    @classmethod
    def path(cls, home: Path) -> Path:
        return home / NETWORK_FILE

    @classmethod
    def load(cls, home: Path) -> HostNetwork | None:
        try:
            data = json.loads(cls.path(home).read_text())
        except FileNotFoundError:
            return None
        return cls(
            home=home,
            tag=str(data["tag"]),
            subnet=str(data["subnet"]),
            nodes=tuple(data["nodes"]),
            faults=tuple(KernelFault(**f) for f in data.get("faults", [])),
        )

    def save(self) -> None:
        data = {
            "tag": self.tag,
            "subnet": self.subnet,
            "nodes": list(self.nodes),
            "faults": [dataclasses.asdict(f) for f in self.faults],
        }
        temporary = self.path(self.home).with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=2) + "\n")
        temporary.replace(self.path(self.home))

    @classmethod
    def plan(cls, home: Path, names: Sequence[str]) -> HostNetwork:
        """A network for `names` (kept from an earlier start of this home), on a /24 no interface here uses."""
        known = cls.load(home)
        if known is not None:
            return known.with_nodes(names)
        if len(names) > _MAX_NODES:
            raise ClusterError(f"--hosts gives each node an address of one /24: at most {_MAX_NODES} nodes")
        digest = hashlib.sha256(str(home.resolve()).encode()).digest()
        used = _used_networks()
        for attempt in range(256):
            subnet = f"10.{200 + (digest[0] + attempt) % 50}.{(digest[1] + 7 * attempt) % 256}"
            candidate = ipaddress.ip_network(f"{subnet}.0/24")
            if not any(candidate.overlaps(u) for u in used):
                return cls(home, digest[2:5].hex()[:6], subnet, tuple(names))
        raise ClusterError("no free /24 in 10.200.0.0-10.249.255.255 for --hosts")

    def with_nodes(self, names: Iterable[str]) -> HostNetwork:
        """Adds names not yet known (each takes the next address); known ones keep theirs."""
        nodes = (*self.nodes, *(n for n in names if n not in self.nodes))
        if len(nodes) > _MAX_NODES:
            raise ClusterError(f"--hosts gives each node an address of one /24: at most {_MAX_NODES} nodes")
        return dataclasses.replace(self, nodes=nodes)

    # -- creating and removing ------------------------------------------------------------------------------------

    def create(self) -> None:
        """Removes what an earlier start left, then creates the bridge and every node's namespace; saved first."""
        self.save()
        self.destroy(keep_file=True)
        _run(["ip", "link", "add", self.bridge, "type", "bridge"])
        _run(["ip", "addr", "add", f"{self.gateway}/24", "dev", self.bridge])
        _run(["ip", "link", "set", self.bridge, "up"])
        for name in self.nodes:
            self.add_host(name)

    def add_host(self, name: str) -> None:
        namespace, link = self.namespace(name), self.host_link(name)
        _run(["ip", "netns", "add", namespace])
        _run(["ip", "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", namespace])
        _run(["ip", "link", "set", link, "master", self.bridge, "up"])
        _run(["ip", "-n", namespace, "addr", "add", f"{self.address(name)}/24", "dev", "eth0"])
        _run(["ip", "-n", namespace, "link", "set", "eth0", "up"])
        _run(["ip", "-n", namespace, "link", "set", "lo", "up"])

    def destroy(self, *, keep_file: bool = False) -> None:
        """Removes every namespace (killing what still runs in it), veth and the bridge; idempotent."""
        for name in self.nodes:
            namespace = self.namespace(name)
            pids = _run(["ip", "netns", "pids", namespace], check=False).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            _run(["ip", "netns", "del", namespace], check=False)
            _run(["ip", "link", "del", self.host_link(name)], check=False)
        _run(["ip", "link", "del", self.bridge], check=False)
        if not keep_file and self.faults:
            dataclasses.replace(self, faults=()).save()  # the plan stays: the next start uses the same addresses

    def exists(self) -> bool:
        return _run(["ip", "link", "show", self.bridge], check=False).returncode == 0

    def command(self, name: str, argv: Sequence[str]) -> list[str]:
        """`argv` run in node `name`'s namespace (`ip netns exec` execs it: the pid stays the node's)."""
        return ["ip", "netns", "exec", self.namespace(name), *argv]

    # -- kernel faults --------------------------------------------------------------------------------------------

    def with_faults(self, faults: Iterable[KernelFault]) -> HostNetwork:
        """Installs exactly `faults` (the live ones), rewriting the table of every namespace they touch."""
        now = time.time()
        live = tuple(f for f in faults if f.live(now))
        touched = {f.source for f in (*self.faults, *live)}
        network = dataclasses.replace(self, faults=live)
        network.save()
        for name in sorted(touched):
            network._apply(name, now)
        return network

    def _apply(self, name: str, now: float) -> None:
        mine = [f for f in self.faults if f.source == name and f.live(now)]
        sets: dict[str, list[str]] = {"blackholed": [], "disconnected": []}
        for fault in mine:
            if fault.target is None:
                continue
            element = self.address(fault.target)
            if fault.expires is not None:
                element += f" timeout {max(1, int(fault.expires - now))}s"
            sets["blackholed" if fault.kind == "blackhole" else "disconnected"].append(element)

        def declare(set_name: str) -> str:
            elements = f"\n    elements = {{ {', '.join(sets[set_name])} }}" if sets[set_name] else ""
            return f"  set {set_name} {{\n    type ipv4_addr; flags timeout;{elements}\n  }}\n"

        ruleset = (
            f"table inet {_TABLE} {{}}\n"
            f"delete table inet {_TABLE}\n"
            f"table inet {_TABLE} {{\n"
            f"{declare('blackholed')}{declare('disconnected')}"
            "  chain output {\n"
            "    type filter hook output priority 0; policy accept;\n"
            "    ip daddr @blackholed drop\n"
            "    meta l4proto tcp ip daddr @disconnected reject with tcp reset\n"
            "  }\n"
            "}\n"
        )
        _run(["ip", "netns", "exec", self.namespace(name), "nft", "-f", "-"], stdin=ruleset)
        down = any(f.kind == "link-down" for f in mine)
        _run(["ip", "-n", self.namespace(name), "link", "set", "eth0", "down" if down else "up"])

    def kernel_rules(self, name: str) -> str:
        """The nftables ruleset of a node's namespace, as `nft list ruleset` prints it (for tests and `fault list`)."""
        return _run(["ip", "netns", "exec", self.namespace(name), "nft", "list", "ruleset"]).stdout


def _used_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The IPv4 networks of every interface and route of this machine's root namespace."""
    networks = []
    for args in (["ip", "-o", "-4", "addr"], ["ip", "-4", "route"]):
        for word in _run(args, check=False).stdout.split():
            with contextlib.suppress(ValueError):
                if "/" in word:
                    networks.append(ipaddress.ip_network(word, strict=False))
    return networks


def start_watcher(home: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A process that removes `home`'s network once the returned process's stdin closes: when the launcher ends,
    however it ends (fate-sharing with a foreground `up --hosts`)."""
    return subprocess.Popen(
        [sys.executable, "-m", "cluster.netns", "watch", str(home)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )


def schedule_heal(home: Path, fault_id: str, at: float, env: dict[str, str]) -> None:
    """A link set down for a while comes up by itself: a detached process removes the fault at `at`. (nftables set
    elements expire in the kernel; a link has no such timer.)"""
    subprocess.Popen(
        [sys.executable, "-m", "cluster.netns", "heal-at", str(home), fault_id, repr(at)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, env=env,
    )  # fmt: skip


def _heal_at(home: Path, fault_id: str, at: float) -> None:
    time.sleep(max(0.0, at - time.time()))
    network = HostNetwork.load(home)
    if network is not None and network.exists():
        network.with_faults(f for f in network.faults if f.id != fault_id)


def _watch(home: Path) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's Ctrl-C is the launcher's
    while sys.stdin.buffer.read(65536):
        pass
    network = HostNetwork.load(home)
    if network is not None:
        network.destroy()


def _main(argv: list[str]) -> Any:
    if len(argv) == 2 and argv[0] == "watch":
        return _watch(Path(argv[1]))
    if len(argv) == 4 and argv[0] == "heal-at":
        return _heal_at(Path(argv[1]), argv[2], float(argv[3]))
    print("usage: python -m cluster.netns watch HOME | heal-at HOME FAULT TIME", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
