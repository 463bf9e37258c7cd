"""Benchmark: a big cluster on one machine (100 nodes by default), and start-up against the cost of the imports.

Usage: python scripts/bench_scale.py [--nodes 100] [--masters 3] [--runs 3] [--json FILE]
       python scripts/bench_scale.py --p5 [--runs 5]

The cluster run starts `--nodes` node processes through `LocalCluster` (ephemeral ports, a temporary home) with
`--masters` dedicated master-eligible nodes (the rest `data,ingest`; `--masters 0`: every node master-eligible, as
`simcluster up` without `--masters`), and measures:

- wall time from `start()` until every node sees all N nodes and a master (`wait_until_formed`), and how much of
  it went to spawning (every node printed its ready line);
- idle CPU of the whole cluster over 10 s once formed (utime + stime of every node, in % of one core), which is
  what leader and follower checks and publications cost when nothing else happens;
- memory per node: RSS and PSS (`/proc/<pid>/smaps_rollup`; PSS splits pages shared with the spawner fairly);
- `GET /_tasks` p50/p99, sequential, round-robin over every node (each a fan-out to all N nodes): first one round
  where each node coordinates its first request (cold: its channels to every peer are opened then), then warm;
- a killed data node leaving the master's cluster state (`_cluster/health?local`), `--runs` times;
- a killed master replaced: until three survivors (a master-eligible one, two others) agree on a new master.

`--p5` measures issue 11's P5 instead: the wall time of the real CLI, `simcluster up --nodes N --detach` with
ephemeral ports, at 3 and 20 nodes, each divided by the time of `python -c "import grpc, aiohttp, google.protobuf"`
measured just before it (on a shared machine both move with the load), median of `--runs` ratios (targets: at most
2.5x at 3 nodes, 10x at 20).

The machine's load average is printed beside the figures: on a shared 2-core machine they move with it. This is a
benchmark, not a test: it prints numbers and never fails on them.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cluster.launcher import LocalCluster  # noqa: E402
from cluster.rest_client import get_json  # noqa: E402

POLL_S = 0.05
DEADLINE_S = 120.0
IDLE_WINDOW_S = 10.0
TASKS_REQUESTS = 100


def poll(condition: Callable[[], bool], what: str, deadline_s: float = DEADLINE_S) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > deadline_s:
            raise SystemExit(f"gave up after {deadline_s:g}s waiting for {what}")
        time.sleep(POLL_S)
    return time.monotonic() - started


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime


def memory(pid: int) -> tuple[int, int] | None:
    """RSS and PSS in bytes."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return None
    values = {k.strip(): v.split() for k, _, v in (line.partition(":") for line in lines)}
    try:
        return int(values["Rss"][0]) * 1024, int(values["Pss"][0]) * 1024
    except (KeyError, IndexError, ValueError):
        return None


def health(address: str) -> dict[str, Any] | None:
    answer = get_json(address, "/_cluster/health?local=true", 5.0)
    return answer.body if answer is not None and answer.status == 200 and isinstance(answer.body, dict) else None


def master_seen_by(address: str) -> str | None:
    answer = get_json(address, "/_cat/master?format=json&local=true", 5.0)
    if answer is None or answer.status != 200 or not answer.body or answer.body[0].get("id") in (None, "-"):
        return None
    return str(answer.body[0]["node"])


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def tasks_latency(addresses: list[str], requests: int) -> dict[str, float]:
    connections: dict[str, http.client.HTTPConnection] = {}
    samples = []
    for i in range(requests):
        address = addresses[i % len(addresses)]
        host, _, port = address.rpartition(":")
        conn = connections.get(address) or connections.setdefault(address, http.client.HTTPConnection(host, int(port)))
        started = time.perf_counter()
        conn.request("GET", "/_tasks")
        response = conn.getresponse()
        body = json.loads(response.read())
        samples.append(time.perf_counter() - started)
        if response.status != 200 or body.get("node_failures"):
            print(f"  warning: GET /_tasks on {address}: {response.status} {str(body)[:200]}", file=sys.stderr)
    for conn in connections.values():
        conn.close()
    return {"p50_ms": round(percentile(samples, 0.5) * 1000, 1), "p99_ms": round(percentile(samples, 0.99) * 1000, 1)}


def wait_whole(addresses: list[str], nodes: int) -> None:
    poll(lambda: all((health(a) or {}).get("number_of_nodes") == nodes for a in addresses), "the whole cluster")


def kill_a_data_node(cluster: LocalCluster, address: str, masters: int, rng: random.Random) -> float:
    """SIGKILLs a node that is not the master; seconds until the master's cluster state no longer holds it."""
    master = master_seen_by(address)
    alive = [r for r in cluster.nodes if r.name in set(cluster.running())]
    master_address = next(r.http_address or "" for r in alive if r.name == master)
    victim = rng.choice([r for r in alive if r.name != master and (masters == 0 or "master" not in r.config.roles)])
    time.sleep(rng.uniform(0, 1))  # anywhere within a check interval
    started = time.monotonic()  # kill_node returns once the process is reaped, which may take longer than its leaving
    cluster.kill_node(victim.name)
    expected = len(alive) - 1
    poll(lambda: (health(master_address) or {}).get("number_of_nodes") == expected, "the node's removal")
    return time.monotonic() - started


def kill_the_master(cluster: LocalCluster, address: str, rng: random.Random) -> float:
    """SIGKILLs the master; seconds until a master-eligible survivor and two other nodes agree on a new one."""
    master = master_seen_by(address)
    alive = [r for r in cluster.nodes if r.name in set(cluster.running()) and r.name != master]
    eligible = [r for r in alive if r.config.is_master_eligible]
    others = [r for r in alive if not r.config.is_master_eligible] or eligible[1:]
    watchers = [r.http_address or "" for r in (eligible[:1] + rng.sample(others, min(2, len(others))))]
    time.sleep(rng.uniform(0, 1))
    started = time.monotonic()
    cluster.kill_node(str(master))

    def new_master() -> bool:
        seen = {master_seen_by(a) for a in watchers}
        return len(seen) == 1 and None not in seen and master not in seen

    poll(new_master, "a new master")
    return time.monotonic() - started


def run_cluster(args: argparse.Namespace) -> dict[str, Any]:
    masters = args.masters if 0 < args.masters < args.nodes else 0
    overrides = {f"node-{i}": {"roles": ("data", "ingest")} for i in range(masters + 1, args.nodes + 1)}
    home = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    report: dict[str, Any] = {"nodes": args.nodes, "masters": masters or args.nodes, "load_before": load()}
    cluster = LocalCluster(home, args.nodes, http_port=0, transport_port=0, node_overrides=overrides,
                           start_timeout=600.0)  # fmt: skip
    try:
        started = time.monotonic()
        cluster.start()
        report["spawned_s"] = round(time.monotonic() - started, 2)
        cluster.wait_until_formed(600.0)
        report["formed_s"] = round(time.monotonic() - started, 2)
        report["load_at_formed"] = load()
        print(f"formed: {report['formed_s']}s (spawned {report['spawned_s']}s), load {report['load_at_formed']}")

        pids = [r.pid for r in cluster.nodes if r.pid is not None]
        time.sleep(5.0)  # let the joins' publications settle
        before = sum(cpu_ticks(p) for p in pids)
        time.sleep(IDLE_WINDOW_S)
        used = (sum(cpu_ticks(p) for p in pids) - before) / os.sysconf("SC_CLK_TCK")
        report["idle_cpu_pct_of_one_core"] = round(100 * used / IDLE_WINDOW_S, 1)
        mem = [m for m in map(memory, pids) if m is not None]
        report["rss_mb_median"] = round(statistics.median(m[0] for m in mem) / 2**20, 1)
        report["pss_mb_median"] = round(statistics.median(m[1] for m in mem) / 2**20, 1)
        report["pss_mb_total"] = round(sum(m[1] for m in mem) / 2**20)
        print(f"idle cpu {report['idle_cpu_pct_of_one_core']}% of one core; rss {report['rss_mb_median']} MB,"
              f" pss {report['pss_mb_median']} MB per node ({report['pss_mb_total']} MB in all)")  # fmt: skip

        addresses = [r.http_address for r in cluster.nodes if r.http_address]
        # The first request a node coordinates opens its channels to the 99 others (TLS handshakes included): a
        # round over every node measures that, then the same round again measures warm fan-outs.
        report["tasks_cold"] = tasks_latency(addresses, len(addresses))
        report["tasks"] = tasks_latency(addresses, TASKS_REQUESTS)
        print(
            f"GET /_tasks over {len(addresses)} nodes: cold {report['tasks_cold']}, warm {report['tasks']}, load {load()}"
        )

        rng = random.Random(1)
        leave, elect = [], []
        for run in range(args.runs):
            leave.append(kill_a_data_node(cluster, addresses[0], masters, rng))
            print(f"  run {run + 1}: a killed node left the master's state after {leave[-1]:.2f}s")
            elect.append(kill_the_master(cluster, addresses[0], rng))
            print(f"  run {run + 1}: a new master after {elect[-1]:.2f}s")
            for name in set(r.name for r in cluster.nodes) - set(cluster.running()):
                cluster.start_node(name, timeout=120.0)
            addresses = [r.http_address for r in cluster.nodes if r.http_address]
            wait_whole(addresses[:3], args.nodes)
        report["kill_to_leave_s"] = {
            "median": round(statistics.median(leave), 2),
            "samples": [round(s, 2) for s in leave],
        }
        report["master_kill_to_new_master_s"] = {"median": round(statistics.median(elect), 2),
                                                 "samples": [round(s, 2) for s in elect]}  # fmt: skip
        report["load_after"] = load()
    finally:
        cluster.stop(timeout=10.0)
        shutil.rmtree(home, ignore_errors=True)
    return report


def import_seconds() -> float:
    """The median of three `python -c "import grpc, aiohttp, google.protobuf"` wall times, measured now."""
    samples = []
    for _ in range(3):
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", "import grpc, aiohttp, google.protobuf"], check=True)
        samples.append(time.monotonic() - started)
    return statistics.median(samples)


def run_p5(args: argparse.Namespace) -> dict[str, Any]:
    """Each `up` is measured right after the imports it is divided by, so both see the same load."""
    report: dict[str, Any] = {"load_before": load()}
    simcluster = [sys.executable, "-c", "from cluster.cli import main; main()"]
    for nodes in (3, 20):
        walls, ratios = [], []
        for _ in range(args.runs):
            basis = import_seconds()
            home = Path(tempfile.mkdtemp(prefix="bench-p5-"))
            try:
                started = time.monotonic()
                subprocess.run([*simcluster, "up", "--nodes", str(nodes), "--home", str(home), "--http-port", "0",
                                "--transport-port", "0", "--detach", "--timeout", "300"],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)  # fmt: skip
                walls.append(time.monotonic() - started)
                ratios.append(walls[-1] / basis)
            finally:
                subprocess.run([*simcluster, "down", "--home", str(home)], stdout=subprocess.DEVNULL, cwd=ROOT)
                shutil.rmtree(home, ignore_errors=True)
        report[f"up_{nodes}"] = {
            "wall_s": round(statistics.median(walls), 2),
            "ratio": round(statistics.median(ratios), 1),
            "samples_s": [round(w, 2) for w in walls],
            "ratios": [round(r, 1) for r in ratios],
        }
        print(f"up --nodes {nodes}: {report[f'up_{nodes}']}, load {load()}")
    report["load_after"] = load()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--masters", type=int, default=3, help="dedicated master-eligible nodes; 0: every node")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--p5", action="store_true", help="measure `simcluster up` against the imports instead")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this file")
    args = parser.parse_args()
    report = run_p5(args) if args.p5 else run_cluster(args)
    print(json.dumps(report, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main()
