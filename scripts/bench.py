"""Benchmark of the task APIs: every scenario of issue 11 next to baselines measured in the same run.

Usage:
    python scripts/bench.py                    # every scenario, clusters of 3 and 20 nodes; prints the table
    python scripts/bench.py --only P1,P4       # a subset (P1 P2 P3 P4 P5 P6 P8; P6 and P8 share one phase)
    python scripts/bench.py --nodes 3,10       # the small cluster, and the large one P2 compares it with
    python scripts/bench.py --json             # the results as JSON on stdout instead of the table

Each figure is a ratio against a baseline measured in the same run, with the same client, on the same machine, so
the table means the same on a busy machine as on a quiet one (the absolute figures do not). Latency blocks of the
measure and of its baselines alternate over several rounds, and the medians of all samples are compared:

| # | measure | baseline |
| --- | --- | --- |
| P1 | `GET /_tasks` p50, small cluster (sequential keep-alive `http.client`) | bare aiohttp `GET /` p50 + bare grpc.aio unary p50 |
| P2 | `GET /_tasks` p50, large cluster | the same on the small cluster (both clusters up, blocks alternating) |
| P3 | `GET /_tasks` req/s, 16 concurrent aiohttp client workers | bare aiohttp `GET /` req/s, same client |
| P4 | `POST /_tasks/{id}/_cancel` of a test task with children on 3 nodes (`check_interval=1ms`): with `wait_for_completion=true` until no descendant is left; with `false` until the bans are acknowledged | bare grpc.aio unary p50 |
| P5 | `simcluster up --nodes N --detach` wall time | `python -c "import grpc, aiohttp, google.protobuf"` |
| P6 | RSS growth of all nodes ÷ live test tasks (10,000 by default) | — |
| P8 | `GET /_tasks?group_by=none` with those tasks live, per listed task | — |

The bare servers run in processes of their own. The bare gRPC server speaks mutual TLS with certificates like the
ones `simcluster up` creates, as the transport does (the plain-text figure is reported beside it). This is a
benchmark, not a test: it prints numbers and never fails on them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cluster.credentials import ClusterCredentials  # noqa: E402
from cluster.launcher import LocalCluster  # noqa: E402
from node.transport.tls import TransportTls  # noqa: E402

SCENARIOS = ("P1", "P2", "P3", "P4", "P5", "P6", "P8")
TARGETS = {  # (comparison, bound) per figure of the table
    "P1": ("<=", 1.5),
    "P2": ("<=", 5.0),
    "P3": (">=", 0.12),
    "P4": ("<=", 5.0),
    "P4b": ("<=", 3.0),
    "P5": ("<=", 2.5),
    "P5L": ("<=", 10.0),
    "P6": ("<=", 4.0),
    "P8": ("<=", 10.0),
}
CONCURRENCY = 16

BARE_HTTP_SERVER = textwrap.dedent(
    """
    import asyncio, sys
    from aiohttp import web
    async def ok(request):
        return web.json_response({"ok": True})
    async def main():
        app = web.Application()
        app.router.add_get("/", ok)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        await asyncio.Event().wait()
    asyncio.run(main())
    """
)

BARE_GRPC_SERVER = textwrap.dedent(
    """
    import asyncio, grpc, os, pathlib
    async def echo(request, context):
        return b"x" * 16
    async def main():
        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        handler = grpc.method_handlers_generic_handler(
            "bench.Echo", {"Call": grpc.unary_unary_rpc_method_handler(echo)})
        server.add_generic_rpc_handlers((handler,))
        certs = os.environ.get("BENCH_TLS_CERTS")
        if certs:
            read = lambda name: (pathlib.Path(certs) / name).read_bytes()
            credentials = grpc.ssl_server_credentials(
                [(read("transport.key"), read("transport.crt"))], read("ca.crt"), require_client_auth=True)
            port = server.add_secure_port("127.0.0.1:0", credentials)
        else:
            port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        print(port, flush=True)
        await server.wait_for_termination()
    asyncio.run(main())
    """
)


# ---- measuring ---------------------------------------------------------------------------------------------------


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def summary(samples_ms: list[float]) -> dict[str, float]:
    return {"p50_ms": round(p50(samples_ms), 3), "p99_ms": round(p99(samples_ms), 3), "n": len(samples_ms)}


def time_http(port: int, path: str, n: int, method: str = "GET", warmup: int = 20) -> list[float]:
    """Milliseconds per request over one keep-alive connection, the body read but not parsed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    samples: list[float] = []
    try:
        for i in range(warmup + n):
            start = time.perf_counter()
            conn.request(method, path)
            response = conn.getresponse()
            response.read()
            elapsed = (time.perf_counter() - start) * 1000
            if response.status != 200:
                raise RuntimeError(f"{method} {path} answered {response.status}")
            if i >= warmup:
                samples.append(elapsed)
    finally:
        conn.close()
    return samples


class Client:
    """Sequential requests over one keep-alive connection per port, as the latency baselines are measured."""

    def __init__(self) -> None:
        self._connections: dict[int, http.client.HTTPConnection] = {}

    def request(self, port: int, method: str, path: str) -> tuple[int, Any, float]:
        """Status, parsed body and milliseconds (until the body is read) of one request."""
        conn = self._connections.get(port)
        if conn is None:
            conn = self._connections[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        start = time.perf_counter()
        conn.request(method, path)
        response = conn.getresponse()
        data = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        return response.status, json.loads(data) if data else None, elapsed

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()


async def _time_grpc(port: int, n: int, tls: TransportTls | None, warmup: int = 20) -> list[float]:
    import grpc

    target = f"127.0.0.1:{port}"
    channel = (
        grpc.aio.insecure_channel(target)
        if tls is None
        else grpc.aio.secure_channel(target, tls.channel_credentials(), options=tls.channel_options())
    )
    samples: list[float] = []
    async with channel:
        call = channel.unary_unary("/bench.Echo/Call")
        for i in range(warmup + n):
            start = time.perf_counter()
            await call(b"y" * 16, timeout=5)
            if i >= warmup:
                samples.append((time.perf_counter() - start) * 1000)
    return samples


def time_grpc(port: int, n: int, tls: TransportTls | None = None) -> list[float]:
    return asyncio.run(_time_grpc(port, n, tls))


async def _throughput(urls: list[str], seconds: float, workers: int) -> float:
    """Requests per second that `workers` sequential aiohttp clients get through together (after a warm-up)."""
    import aiohttp

    done = 0
    counting = False
    stop_at = 0.0

    async def worker(session: aiohttp.ClientSession, url: str) -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            async with session.get(url) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"GET {url} answered {response.status}")
            if counting:
                done += 1

    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(connector=connector) as session:
        stop_at = time.perf_counter() + 0.5
        await asyncio.gather(*(worker(session, urls[i % len(urls)]) for i in range(workers)))
        counting, stop_at = True, time.perf_counter() + seconds
        start = time.perf_counter()
        await asyncio.gather(*(worker(session, urls[i % len(urls)]) for i in range(workers)))
        elapsed = time.perf_counter() - start
    return done / elapsed


def throughput(urls: list[str], seconds: float, workers: int = CONCURRENCY) -> float:
    return asyncio.run(_throughput(urls, seconds, workers))


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ---- processes ---------------------------------------------------------------------------------------------------


def spawn_server(code: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "GRPC_VERBOSITY": "ERROR", **(env or {})},
        start_new_session=True,
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def stop_server(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@dataclass
class BareServers:
    """The baselines' servers: aiohttp `GET /`, grpc.aio unary echo in plain text and over mutual TLS."""

    tls: TransportTls
    http_port: int
    grpc_port: int
    tls_port: int
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    @classmethod
    @contextlib.contextmanager
    def running(cls, tmp: Path) -> Iterator[BareServers]:
        credentials = ClusterCredentials(tmp / "bare-tls")
        credentials.ensure()
        tls = TransportTls.from_files(
            credentials.transport_key, credentials.transport_certificate, credentials.ca_certificate
        )
        procs: list[subprocess.Popen[str]] = []
        try:
            http_proc, http_port = spawn_server(BARE_HTTP_SERVER)
            procs.append(http_proc)
            grpc_proc, grpc_port = spawn_server(BARE_GRPC_SERVER)
            procs.append(grpc_proc)
            tls_proc, tls_port = spawn_server(BARE_GRPC_SERVER, {"BENCH_TLS_CERTS": str(credentials.certs_dir)})
            procs.append(tls_proc)
            yield cls(tls, http_port, grpc_port, tls_port, procs)
        finally:
            for proc in procs:
                stop_server(proc)

    def http(self, n: int) -> list[float]:
        return time_http(self.http_port, "/", n)

    def grpc_tls(self, n: int) -> list[float]:
        return time_grpc(self.tls_port, n, self.tls)

    def grpc_plain(self, n: int) -> list[float]:
        return time_grpc(self.grpc_port, n)


@contextlib.contextmanager
def running_cluster(home: Path, nodes: int) -> Iterator[LocalCluster]:
    cluster = LocalCluster(home, nodes, http_port=0, transport_port=0, start_timeout=120)
    try:
        cluster.start()
        cluster.wait_until_formed(timeout=120)
        yield cluster
    finally:
        cluster.stop()


def http_port(cluster: LocalCluster, name: str) -> int:
    address = cluster.node(name).http_address
    assert address is not None
    return int(address.rpartition(":")[2])


def node_pids(cluster: LocalCluster) -> list[int]:
    return [n.pid for n in cluster.nodes if n.pid is not None]


# ---- scenarios ---------------------------------------------------------------------------------------------------


@dataclass
class Bench:
    args: argparse.Namespace
    bare: BareServers
    results: dict[str, Any] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)

    def collect(self, name: str, values: list[float]) -> None:
        self.samples.setdefault(name, []).extend(values)

    def rounds(self, blocks: list[tuple[str, Callable[[], list[float]]]]) -> None:
        """Runs every block once per round, alternating, so that load changes hit all of them alike."""
        for _ in range(self.args.rounds):
            for name, block in blocks:
                self.collect(name, block())

    def list_latency(self, small: LocalCluster) -> None:
        """P1, and the idle memory of a node measured after it."""
        n = self.args.requests
        port = http_port(small, "node-1")
        self.rounds(
            [
                ("bare_http", lambda: self.bare.http(n)),
                ("bare_grpc_tls", lambda: self.bare.grpc_tls(n)),
                ("bare_grpc_plain", lambda: self.bare.grpc_plain(n)),
                ("list_small", lambda: time_http(port, "/_tasks", n)),
            ]
        )
        time.sleep(1.0)  # let the nodes go idle before reading their memory
        self.results["idle_node_rss_mb"] = {
            n.name: round(rss_kb(n.pid) / 1024, 1) for n in small.nodes if n.pid is not None
        }

    def list_throughput(self, small: LocalCluster) -> None:
        """P3: the same client, 16 workers, against the bare server and against every node of the cluster."""
        seconds = self.args.seconds
        bare_url = f"http://127.0.0.1:{self.bare.http_port}/"
        urls = [f"http://127.0.0.1:{http_port(small, name)}/_tasks" for name in small.names]
        hello: list[float] = []
        tasks: list[float] = []
        for _ in range(self.args.rounds):
            hello.append(throughput([bare_url], seconds))
            tasks.append(throughput(urls, seconds))
        self.results["bare_http_rps_16"] = round(p50(hello), 1)
        self.results["list_rps_16"] = round(p50(tasks), 1)

    def cancel(self, small: LocalCluster) -> None:
        """P4: a test task on node-1 with children on all 3 nodes, cancelled from node-2."""
        coordinator, canceller = http_port(small, "node-1"), http_port(small, "node-2")
        children = len(small.names)
        client = Client()

        def one(wait: bool) -> float:
            status, body, _ = client.request(
                coordinator, "POST", "/_sim/tasks?wait_for_completion=false&check_interval=1ms"
            )
            assert status == 200, body
            parent = str(body["task"])
            deadline = time.monotonic() + 30
            while True:
                _, listed, _ = client.request(coordinator, "GET", f"/_tasks?parent_task_id={parent}&group_by=none")
                if len(listed["tasks"]) == children:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("the children did not start")
                time.sleep(0.005)
            flag = "true" if wait else "false"
            status, body, elapsed = client.request(
                canceller, "POST", f"/_tasks/{parent}/_cancel?wait_for_completion={flag}"
            )
            assert status == 200, body
            if not wait:  # let the tree end before the next run
                while True:
                    _, listed, _ = client.request(coordinator, "GET", "/_tasks?actions=cluster:admin/tasks/test*")
                    if not listed["nodes"]:
                        break
                    if time.monotonic() > deadline:
                        raise RuntimeError("the cancelled tree did not end")
                    time.sleep(0.005)
            return elapsed

        runs = self.args.cancel_runs
        self.rounds(
            [
                ("bare_grpc_tls", lambda: self.bare.grpc_tls(self.args.requests // 2)),
                ("cancel_wait", lambda: [one(True) for _ in range(runs)]),
                ("cancel_bans", lambda: [one(False) for _ in range(runs)]),
            ]
        )
        client.close()

    def many_tasks(self, tmp: Path) -> None:
        """P6 and P8 on a cluster of their own: `--tasks` live test tasks, then listed."""
        nodes = self.args.small
        trees = max(1, self.args.tasks // (nodes + 1))
        with running_cluster(tmp / "many", nodes) as cluster:
            ports = [http_port(cluster, name) for name in cluster.names]
            for port in ports:  # warm every path once, so what grows is the tasks
                time_http(port, "/_tasks", 20)
            time.sleep(1.0)
            before = sum(rss_kb(pid) for pid in node_pids(cluster))
            started = time.perf_counter()
            asyncio.run(_start_trees(ports, trees))
            deadline = time.monotonic() + 300
            expected = trees * (nodes + 1)
            client = Client()
            while True:
                _, body, _ = client.request(ports[0], "GET", "/_tasks?actions=cluster:admin/tasks/test*&group_by=none")
                live = len(body["tasks"])
                if live >= expected or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            self.results["many_tasks_start_s"] = round(time.perf_counter() - started, 2)
            time.sleep(1.0)
            after = sum(rss_kb(pid) for pid in node_pids(cluster))
            self.results["live_test_tasks"] = live
            self.results["rss_growth_mb"] = round((after - before) / 1024, 1)
            self.results["kb_per_live_task"] = round((after - before) / live, 2)
            samples: list[float] = []
            listed = 0
            for _ in range(self.args.big_lists):
                _, body, elapsed = client.request(ports[1 % len(ports)], "GET", "/_tasks?group_by=none")
                listed = len(body["tasks"])
                samples.append(elapsed)
            client.close()
            self.results["big_list_ms"] = summary(samples)
            self.results["big_list_tasks"] = listed
            self.results["us_per_listed_task"] = round(p50(samples) * 1000 / listed, 2)

    def large_cluster(self, small: LocalCluster, tmp: Path) -> None:
        """P2: both clusters up, blocks alternating."""
        n = self.args.requests
        small_port = http_port(small, "node-1")
        with running_cluster(tmp / "large", self.args.large) as large:
            large_port = http_port(large, "node-1")
            time_http(large_port, "/_tasks", 50)  # the first fan-out connects to every peer
            self.rounds(
                [
                    ("list_small_p2", lambda: time_http(small_port, "/_tasks", n)),
                    ("list_large", lambda: time_http(large_port, "/_tasks", n)),
                ]
            )

    def cluster_up(self, tmp: Path) -> None:
        """P5: the real CLI, `up --detach` until formed, then `down`."""
        imports = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import grpc, aiohttp, google.protobuf"], check=True)
            imports.append(time.perf_counter() - start)
        self.results["import_s"] = round(p50(imports), 3)
        cli = [sys.executable, "-m", "cluster"]
        for count in sorted({self.args.small, self.args.large}):
            home = tmp / f"up-{count}"
            start = time.perf_counter()
            subprocess.run(
                [*cli, "up", "--nodes", str(count), "--detach", "--home", str(home), "--http-port", "0",
                 "--transport-port", "0"],
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            self.results[f"up_{count}_nodes_s"] = round(time.perf_counter() - start, 2)
            subprocess.run([*cli, "down", "--home", str(home)], check=True, stdout=subprocess.DEVNULL)


async def _start_trees(ports: list[int], trees: int) -> None:
    """`trees` test-task trees (a parent and one child per node each), spread over the nodes, 16 at a time."""
    import aiohttp

    remaining = iter(range(trees))

    async def worker(session: aiohttp.ClientSession) -> None:
        for i in remaining:
            url = f"http://127.0.0.1:{ports[i % len(ports)]}/_sim/tasks?wait_for_completion=false&check_interval=60s"
            async with session.post(url) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"POST {url} answered {response.status}")

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:
        await asyncio.gather(*(worker(session) for _ in range(CONCURRENCY)))


# ---- the table ---------------------------------------------------------------------------------------------------


def figures(bench: Bench) -> list[dict[str, Any]]:
    """One row per figure: what was measured, its baseline, the ratio and the target."""
    s, r = bench.samples, bench.results
    rows: list[dict[str, Any]] = []

    def row(key: str, measure: str, value: str, baseline: str, ratio: float | None) -> None:
        op, bound = TARGETS[key]
        met = None if ratio is None else (ratio <= bound if op == "<=" else ratio >= bound)
        rows.append(
            {"id": key, "measure": measure, "value": value, "baseline": baseline,
             "ratio": None if ratio is None else round(ratio, 3), "target": f"{op} {bound:g}", "met": met}
        )  # fmt: skip

    small, large = bench.args.small, bench.args.large
    if "list_small" in s:
        tasks, bare_http, bare_grpc = p50(s["list_small"]), p50(s["bare_http"]), p50(s["bare_grpc_tls"])
        row("P1", f"GET /_tasks p50, {small} nodes", f"{tasks:.3f} ms",
            f"aiohttp {bare_http:.3f} + gRPC mTLS {bare_grpc:.3f} ms", tasks / (bare_http + bare_grpc))  # fmt: skip
    if "list_large" in s:
        at_large, at_small = p50(s["list_large"]), p50(s["list_small_p2"])
        row("P2", f"GET /_tasks p50, {large} nodes", f"{at_large:.3f} ms", f"{small} nodes {at_small:.3f} ms",
            at_large / at_small)  # fmt: skip
    if "list_rps_16" in r:
        row("P3", f"GET /_tasks req/s, {CONCURRENCY} clients, {small} nodes", f"{r['list_rps_16']:.0f}/s",
            f"aiohttp hello {r['bare_http_rps_16']:.0f}/s", r["list_rps_16"] / r["bare_http_rps_16"])  # fmt: skip
    if "cancel_wait" in s:
        rtt = p50(s["bare_grpc_tls"])
        wait, bans = p50(s["cancel_wait"]), p50(s["cancel_bans"])
        row("P4", "cancel, wait_for_completion=true, until no descendant is left", f"{wait:.3f} ms",
            f"gRPC mTLS round trip {rtt:.3f} ms", wait / rtt)  # fmt: skip
        row("P4b", "cancel, wait_for_completion=false (bans acknowledged)", f"{bans:.3f} ms",
            f"gRPC mTLS round trip {rtt:.3f} ms", bans / rtt)  # fmt: skip
    if "import_s" in r:
        imports = r["import_s"]
        for key, count in (("P5", small), ("P5L", large)):
            if f"up_{count}_nodes_s" in r:
                up = r[f"up_{count}_nodes_s"]
                row(key, f"simcluster up --nodes {count}", f"{up:.2f} s", f"imports {imports:.3f} s", up / imports)
    if "kb_per_live_task" in r:
        row("P6", f"memory per live task ({r['live_test_tasks']} live test tasks)", f"{r['kb_per_live_task']:.2f} KB",
            f"RSS growth {r['rss_growth_mb']} MB", r["kb_per_live_task"])  # fmt: skip
    if "us_per_listed_task" in r:
        row("P8", f"GET /_tasks?group_by=none, {r['big_list_tasks']} tasks, per task",
            f"{r['us_per_listed_task']:.2f} µs", f"p50 {r['big_list_ms']['p50_ms']:.1f} ms per listing",
            r["us_per_listed_task"])  # fmt: skip
    return rows


def print_table(rows: list[dict[str, Any]], bench: Bench) -> None:
    print("| # | measure | value | baseline | ratio | target | met |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        unit = "" if row["id"] in ("P6", "P8") else "x"
        ratio = "—" if row["ratio"] is None else f"{row['ratio']:.2f}{unit}"
        met = {True: "yes", False: "no", None: "—"}[row["met"]]
        print(
            f"| {row['id']} | {row['measure']} | {row['value']} | {row['baseline']} | {ratio} | {row['target']} | {met} |"
        )
    r = bench.results
    if "idle_node_rss_mb" in r:
        print(f"\nidle node RSS (MB): {r['idle_node_rss_mb']}")
    if "bare_grpc_plain" in bench.samples:
        plain, tls = p50(bench.samples["bare_grpc_plain"]), p50(bench.samples["bare_grpc_tls"])
        print(f"bare gRPC unary p50: plain {plain:.3f} ms, mutual TLS {tls:.3f} ms")
    print(f"load average: {r['load_before']} before, {r['load_after']} after")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios (default: all)")
    parser.add_argument("--nodes", default="3,20", help="small and large cluster sizes (default 3,20)")
    parser.add_argument("--requests", type=int, default=200, help="sequential requests per latency block")
    parser.add_argument("--rounds", type=int, default=5, help="alternating blocks per measure")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one throughput block")
    parser.add_argument("--cancel-runs", type=int, default=6, help="cancellations per P4 block")
    parser.add_argument("--tasks", type=int, default=10_000, help="live test tasks for P6 and P8")
    parser.add_argument("--big-lists", type=int, default=5, help="listings of those tasks for P8")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of the table")
    args = parser.parse_args()
    only = {s.strip().upper() for s in args.only.split(",") if s.strip()}
    unknown = only - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; known: {', '.join(SCENARIOS)}")
    counts = [int(n) for n in args.nodes.split(",")]
    args.small, args.large = counts[0], counts[-1]

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp_dir, BareServers.running(Path(tmp_dir)) as bare:
        tmp = Path(tmp_dir)
        bench = Bench(args, bare)
        if only & {"P1", "P2", "P3", "P4"}:
            with running_cluster(tmp / "small", args.small) as small:
                if "P1" in only:
                    bench.list_latency(small)
                if "P3" in only:
                    bench.list_throughput(small)
                if "P4" in only:
                    bench.cancel(small)
                if "P2" in only:
                    bench.large_cluster(small, tmp)
        if only & {"P6", "P8"}:
            bench.many_tasks(tmp)
        if "P5" in only:
            bench.cluster_up(tmp)
    bench.results["load_before"] = [round(x, 2) for x in load_before]
    bench.results["load_after"] = [round(x, 2) for x in os.getloadavg()]
    rows = figures(bench)
    if args.json:
        samples = {name: summary(values) for name, values in bench.samples.items()}
        print(json.dumps({"figures": rows, "latencies": samples, "results": bench.results}, indent=2))
    else:
        print_table(rows, bench)
    return 0


if __name__ == "__main__":
    sys.exit(main())
