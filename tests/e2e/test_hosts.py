"""`--hosts`: three nodes in three network namespaces on a bridge, and a partition made of kernel rules.

Every request of this test goes to the namespaces' own addresses (through the bridge the launcher creates), and the
partition is nftables rules in the nodes' namespaces, not the transport's fault hooks. Nothing may be left behind:
no namespace, no bridge, no veth, no rule.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cluster.launcher import FAST_FAILURE_DETECTION, LocalCluster
from cluster.netns import HostNetwork, HostsUnavailableError, check_hosts_support
from cluster.rest_client import get_json
from tests.e2e.test_cli import SOURCE_ROOT
from tests.support.http import wait_until

pytestmark = pytest.mark.e2e


def _hosts_unavailable() -> str | None:
    try:
        check_hosts_support()
    except HostsUnavailableError as e:
        return str(e)
    return None


requires_hosts = pytest.mark.skipif(_hosts_unavailable() is not None, reason=str(_hosts_unavailable()))


def master_of(address: str) -> str | None:
    """The master a node's applied cluster state names (`_cat/master?local`), None when it has none."""
    answer = get_json(address, "/_cat/master?format=json&local=true", 3.0)
    if answer is None or answer.status != 200 or answer.body[0]["node"] in (None, "-"):
        return None
    return str(answer.body[0]["node"])


def fault(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cluster", "fault", *args, "--home", str(home)],
        capture_output=True, text=True, timeout=60, check=False, cwd=SOURCE_ROOT,
    )  # fmt: skip


def leftovers(network: HostNetwork) -> set[str]:
    """The namespaces and links of `network` that exist in the kernel (their rules live in the namespaces)."""
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    names = {line.split()[0] for line in namespaces.splitlines() if line.strip()}
    names |= {line.split(":")[1].strip().split("@")[0] for line in links.splitlines()}
    ours = (
        {network.bridge} | {network.namespace(n) for n in network.nodes} | {network.host_link(n) for n in network.nodes}
    )
    return names & ours


def cluster_size(address: str) -> int | None:
    answer = get_json(address, "/_cluster/health?local=true", 3.0)
    return None if answer is None or answer.status != 200 else int(answer.body["number_of_nodes"])


@requires_hosts
def test_three_nodes_in_three_namespaces_survive_a_kernel_partition(tmp_path: Path) -> None:
    home = tmp_path / "hosts"
    cluster = LocalCluster(home, 3, hosts=True, node_defaults=FAST_FAILURE_DETECTION)
    network: HostNetwork | None = None
    try:
        cluster.start()
        network = cluster.network
        assert network is not None
        cluster.wait_until_formed(60.0)
        addresses = {r.name: r.http_address or "" for r in cluster.nodes}
        assert addresses == {name: f"{network.address(name)}:9200" for name in cluster.names}
        for address in addresses.values():
            tasks = get_json(address, "/_tasks", 10.0)
            assert tasks is not None and tasks.status == 200
            assert len(tasks.body["nodes"]) == 3 and not tasks.body.get("node_failures")

        old_master = master_of(addresses["node-1"])
        assert old_master is not None
        majority = [n for n in cluster.names if n != old_master]
        cut = fault(home, "partition", old_master, "--kernel")
        assert cut.returncode == 0, cut.stderr
        assert "4 kernel rules in 3 namespaces" in cut.stdout
        assert "@blackholed drop" in network.kernel_rules(old_master)

        def new_master_on_the_majority() -> bool:
            seen = {master_of(addresses[n]) for n in majority}
            return len(seen) == 1 and None not in seen and old_master not in seen

        wait_until(new_master_on_the_majority, 30.0, what="a new master on the majority side")
        wait_until(lambda: master_of(addresses[old_master]) is None, 30.0, what="the minority to lose its master")

        healed = fault(home, "heal")
        assert healed.returncode == 0, healed.stderr

        def whole() -> bool:
            masters = {master_of(a) for a in addresses.values()}
            return len(masters) == 1 and None not in masters and all(cluster_size(a) == 3 for a in addresses.values())

        wait_until(whole, 30.0, what="the cluster whole again, every node following one master")
    finally:
        cluster.stop(timeout=10.0)
    assert network is not None
    assert leftovers(network) == set()
    assert not [p for p in _commands() if str(home) in " ".join(p)], "a node process of this cluster still runs"


@requires_hosts
def test_a_new_start_removes_what_a_killed_launcher_left(tmp_path: Path) -> None:
    home = tmp_path / "left"
    home.mkdir()
    network = HostNetwork.plan(home, ["node-1", "node-2"])
    try:
        network.create()  # what a launcher killed before it could clean up leaves
        expected = {network.bridge, "scv" + network.tag + "-1", "scv" + network.tag + "-2"}
        expected |= {network.namespace("node-1"), network.namespace("node-2")}
        assert leftovers(network) == expected
        network.create()  # the next start removes it first, then creates it again
        assert leftovers(network) == expected
    finally:
        network.destroy()
    assert leftovers(network) == set()


@requires_hosts
def test_a_loopback_home_is_not_restarted_on_hosts(tmp_path: Path) -> None:
    """Its stored addresses and seeds are loopback ones, which no namespace reaches: refused, nothing created."""
    from cluster.errors import ClusterStateError

    home = tmp_path / "loopback"
    first = LocalCluster(home, 2, http_port=0, transport_port=0, node_defaults=FAST_FAILURE_DETECTION)
    try:
        first.start()
        first.wait_until_formed(60.0)
    finally:
        first.stop()
    with pytest.raises(ClusterStateError, match="on loopback, not on --hosts"):
        LocalCluster(home, 2, http_port=0, transport_port=0, hosts=True).start()
    assert not HostNetwork.path(home).exists()


def test_without_root_the_command_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(shutil, "which", lambda tool: f"/usr/sbin/{tool}")
    if not sys.platform.startswith("linux"):
        pytest.skip("--hosts is Linux only")
    with pytest.raises(HostsUnavailableError, match=r"--hosts needs root"):
        check_hosts_support()


def _commands() -> list[list[str]]:
    commands = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                commands.append((entry / "cmdline").read_bytes().decode(errors="replace").split("\0"))
            except OSError:
                continue
    return commands
