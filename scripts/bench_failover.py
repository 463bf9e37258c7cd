"""Benchmark: how fast a 3-node cluster notices a dead or hung node and elects a new master.

Usage: python scripts/bench_failover.py [--runs 5] [--fast] [--json FILE] [--seed 1]

Measured against real node processes at the default failure-detection settings (leader and follower checks every
1 s, 1 s timeout, 3 retries; `--fast` uses the test suite's 200 ms / 500 ms / 3 instead), each repeated `--runs`
times, polling every 20 ms:

- detect a killed follower: SIGKILL a follower, until the master's applied cluster state no longer holds it
  (`GET /_cluster/health?local`, which reads the state without any fan-out);
- elect a new master: SIGKILL the master, until both survivors follow the same new master (`GET /_cat/master`);
- detect a paused follower: SIGSTOP a follower, until the master's applied cluster state no longer holds it;
- rejoin: start a killed node again, until the master's state holds it again (includes the process start-up).

A killed process is noticed at the next check (the kernel resets its connections, which gRPC reports as
UNAVAILABLE, and one disconnect is enough); a paused one only after `retries` checks have timed out. This is a
benchmark, not a test: it prints numbers and never fails on them.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cluster.launcher import FAST_FAILURE_DETECTION, LocalCluster  # noqa: E402
from cluster.rest_client import get_json  # noqa: E402

POLL_S = 0.02
DEADLINE_S = 60.0


def poll(condition: Callable[[], bool], what: str) -> float:
    """Seconds until `condition()` holds, polled every 20 ms."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > DEADLINE_S:
            raise SystemExit(f"gave up after {DEADLINE_S:g}s waiting for {what}")
        time.sleep(POLL_S)
    return time.monotonic() - started


def master_seen_by(cluster: LocalCluster, name: str) -> str | None:
    answer = get_json(cluster.node(name).http_address or "", "/_cat/master?format=json", 2.0)
    if answer is None or answer.status != 200 or not answer.body or answer.body[0].get("id") in (None, "-"):
        return None
    return str(answer.body[0]["node"])


def node_count(cluster: LocalCluster, name: str) -> int | None:
    """How many nodes the cluster state applied on `name` holds (`_cluster/health?local`, no fan-out)."""
    answer = get_json(cluster.node(name).http_address or "", "/_cluster/health?local=true", 2.0)
    if answer is None or answer.status != 200 or not isinstance(answer.body, dict):
        return None
    return int(answer.body["number_of_nodes"])


def current_master(cluster: LocalCluster) -> str:
    names = cluster.names
    poll(lambda: len({master_seen_by(cluster, n) for n in names} - {None}) == 1, "a master")
    master = master_seen_by(cluster, names[0])
    assert master is not None
    return master


def whole_again(cluster: LocalCluster) -> str:
    for name in cluster.names:
        if name not in cluster.running():
            cluster.start_node(name)
    names = cluster.names
    poll(lambda: all(node_count(cluster, n) == len(names) for n in names), "the whole cluster")
    return current_master(cluster)


def counts(cluster: LocalCluster, name: str, expected: int) -> Callable[[], bool]:
    return lambda: node_count(cluster, name) == expected


def new_master_among(cluster: LocalCluster, survivors: list[str], old: str) -> Callable[[], bool]:
    def elected() -> bool:
        seen = {master_seen_by(cluster, n) for n in survivors}
        return len(seen) == 1 and None not in seen and old not in seen

    return elected


def measure(cluster: LocalCluster, runs: int, phase: Callable[[], None]) -> dict[str, list[float]]:
    """Each fault is injected after `phase()`, a random pause, so it falls anywhere within a check interval."""
    results: dict[str, list[float]] = {"detect_killed": [], "elect_master": [], "detect_paused": [], "rejoin": []}
    size = len(cluster.names)
    for _ in range(runs):
        master = whole_again(cluster)
        follower = next(n for n in cluster.names if n != master)
        phase()
        cluster.kill_node(follower)
        results["detect_killed"].append(poll(counts(cluster, master, size - 1), "the killed node's removal"))
        started = time.monotonic()
        cluster.start_node(follower, wait=False)
        poll(counts(cluster, master, size), "the rejoin")
        results["rejoin"].append(time.monotonic() - started)

        master = whole_again(cluster)
        survivors = [n for n in cluster.names if n != master]
        phase()
        cluster.kill_node(master)
        results["elect_master"].append(poll(new_master_among(cluster, survivors, master), "a new master"))

        master = whole_again(cluster)
        follower = next(n for n in cluster.names if n != master)
        phase()
        cluster.pause_node(follower)
        results["detect_paused"].append(poll(counts(cluster, master, size - 1), "the paused node's removal"))
        cluster.resume_node(follower)
    whole_again(cluster)
    return results


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "median_s": round(statistics.median(samples), 3),
        "min_s": round(min(samples), 3),
        "max_s": round(max(samples), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fast", action="store_true", help="fd 200ms/500ms/3 instead of the defaults 1s/1s/3")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this file")
    parser.add_argument("--seed", type=int, default=1, help="seeds the random phase of each injected fault")
    args = parser.parse_args()
    defaults = dict(FAST_FAILURE_DETECTION) if args.fast else {}
    with tempfile.TemporaryDirectory(prefix="bench-failover-") as home:
        cluster = LocalCluster(home, 3, http_port=0, transport_port=0, node_defaults=defaults)
        try:
            cluster.start()
            cluster.wait_until_formed(60.0)
            interval = cluster.node("node-1").config.fd_interval_ms / 1000
            rng = random.Random(args.seed)
            results = measure(cluster, args.runs, lambda: time.sleep(rng.uniform(0, interval)))
        finally:
            cluster.stop(timeout=5.0)
    fd = cluster.node("node-1").config
    report = {
        "settings": {
            "fd_interval_ms": fd.fd_interval_ms,
            "fd_timeout_ms": fd.fd_timeout_ms,
            "fd_retries": fd.fd_retries,
        },
        "runs": args.runs,
        **{
            name: {**summary(samples), "samples_s": [round(s, 3) for s in samples]} for name, samples in results.items()
        },
    }
    print(f"failure detection {fd.fd_interval_ms}ms / {fd.fd_timeout_ms}ms / {fd.fd_retries}, {args.runs} runs")
    for name in results:
        entry = report[name]
        print(f"  {name:<14} median {entry['median_s']:.3f}s  min {entry['min_s']:.3f}s  max {entry['max_s']:.3f}s")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main()
