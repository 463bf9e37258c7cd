"""Addresses, ids, memory and membership of the nodes of a `LocalCluster`, for tests that talk to them."""

from __future__ import annotations

from cluster.launcher import LocalCluster
from cluster.process import memory_use
from tests.support.http import call, wait_until

__all__ = ["assert_cluster_whole", "node_id", "resident_bytes", "url", "wait_for_resident_within"]


def url(cluster: LocalCluster, name: str) -> str:
    """The HTTP base URL of a started node, e.g. `http://127.0.0.1:41234`."""
    record = cluster.node(name)
    assert record.http_url is not None, f"{name} has not been started"
    return record.http_url


def node_id(cluster: LocalCluster, name: str) -> str:
    """The persistent node id a started node reported in its ready line."""
    record = cluster.node(name)
    assert record.node_id is not None, f"{name} has not been started"
    return record.node_id


def resident_bytes(cluster: LocalCluster, name: str) -> int:
    """The node process's resident memory now (`VmRSS`)."""
    pid = cluster.node(name).pid
    use = memory_use(pid) if pid is not None else None
    assert use is not None, f"cannot read the memory of {name}"
    return use.resident


def wait_for_resident_within(cluster: LocalCluster, name: str, baseline: int, ratio: float = 1.10) -> int:
    """Polls until the node's resident memory is back within `ratio` of `baseline`; returns it."""
    seen: list[int] = []

    def back() -> int | None:
        seen.append(resident_bytes(cluster, name))
        return seen[-1] if seen[-1] <= baseline * ratio else None

    try:
        return wait_until(back, timeout=30.0, interval=0.2, what=f"the memory of {name} back near {baseline >> 20} MB")
    except AssertionError as e:
        pid = cluster.node(name).pid
        regions = _largest_resident_regions(pid) if pid is not None else []
        raise AssertionError(f"{e}: still {seen[-1] >> 20} MB; largest resident mappings: {regions}") from None


def _largest_resident_regions(pid: int, count: int = 6) -> list[str]:
    """The mappings holding most of a process's resident memory (`/proc/<pid>/smaps`), to tell a heap or malloc arena
    that kept freed memory from a buffer still referenced."""
    regions: list[tuple[int, str]] = []
    current = ""
    try:
        with open(f"/proc/{pid}/smaps", encoding="utf-8", errors="replace") as smaps:
            for line in smaps:
                fields = line.split()
                if fields and "-" in fields[0] and not fields[0].endswith(":"):
                    current = f"{fields[0]} {fields[5] if len(fields) > 5 else '[anon]'}"
                elif fields and fields[0] == "Rss:":
                    regions.append((int(fields[1]), current))
    except OSError:
        return []
    return [f"{where}: {kb >> 10} MB" for kb, where in sorted(regions, reverse=True)[:count]]


def assert_cluster_whole(cluster: LocalCluster) -> None:
    """Every node sees every node, and none was ever removed from the cluster (no `removed {...}` applied)."""
    names = sorted(cluster.names)
    for name in names:
        listed = call(url(cluster, name), "GET", "/_cat/nodes?format=json&h=name").json
        assert sorted(row["name"] for row in listed) == names, f"{name} sees {listed}"
    for record in cluster.nodes:
        removals = [line for line in record.log_file.read_text().splitlines() if "removed {" in line]
        assert removals == [], f"{record.name} applied node removals: {removals}"
