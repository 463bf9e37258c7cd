"""Benchmark: `GET /_tasks` on a 3-node cluster next to a bare aiohttp request and a bare grpc.aio unary call.

Usage: python scripts/bench_tasks.py [--requests 500] [--json FILE]

Measured in one run on the same machine, so the numbers are comparable:
- wall time of `simcluster up --nodes 3 --detach` (the real CLI, until the cluster has formed);
- `GET /_tasks` p50/p99 against one node of a 3-node cluster, sequential, one keep-alive connection;
- a bare aiohttp `GET /` (tiny JSON) served by a separate process, same client;
- a bare grpc.aio unary call (16 bytes each way) served by a separate process, in plain text and over mutual TLS
  with the kind of certificates `simcluster up` creates (the transport's own cost of TLS, per request);
- RSS of every idle node.

The target for `GET /_tasks` is a p50 within 1.5x of (bare HTTP p50 + bare gRPC p50). This is a benchmark, not a
test: it prints numbers and never fails on them.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cluster.credentials import ClusterCredentials  # noqa: E402
from cluster.launcher import LocalCluster  # noqa: E402
from node.transport.tls import TransportTls  # noqa: E402

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


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered), 3), "p99_ms": round(p99, 3), "n": len(ordered)}


def time_http(port: int, path: str, n: int, warmup: int = 50) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    samples: list[float] = []
    try:
        for i in range(warmup + n):
            start = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            elapsed = (time.perf_counter() - start) * 1000
            if response.status != 200:
                raise RuntimeError(f"GET {path} answered {response.status}")
            if i >= warmup:
                samples.append(elapsed)
    finally:
        conn.close()
    return samples


async def _time_grpc(port: int, n: int, tls: TransportTls | None = None, warmup: int = 50) -> list[float]:
    import grpc

    samples: list[float] = []
    target = f"127.0.0.1:{port}"
    channel = (
        grpc.aio.insecure_channel(target)
        if tls is None
        else grpc.aio.secure_channel(target, tls.channel_credentials(), options=tls.channel_options())
    )
    async with channel:
        call = channel.unary_unary("/bench.Echo/Call")
        for i in range(warmup + n):
            start = time.perf_counter()
            await call(b"y" * 16, timeout=5)
            if i >= warmup:
                samples.append((time.perf_counter() - start) * 1000)
    return samples


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


def stop(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def time_cli_up(home: Path) -> float:
    cli = [sys.executable, "-m", "cluster"]
    start = time.perf_counter()
    subprocess.run(
        [*cli, "up", "--nodes", "3", "--detach", "--home", str(home), "--http-port", "0", "--transport-port", "0"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - start
    subprocess.run([*cli, "down", "--home", str(home)], check=True, stdout=subprocess.DEVNULL)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["simcluster_up_3_nodes_s"] = round(time_cli_up(Path(tmp) / "cli"), 2)

        credentials = ClusterCredentials(Path(tmp) / "tls")
        credentials.ensure()
        tls = TransportTls.from_files(
            credentials.transport_key, credentials.transport_certificate, credentials.ca_certificate
        )
        http_server, http_port = spawn_server(BARE_HTTP_SERVER)
        grpc_server, grpc_port = spawn_server(BARE_GRPC_SERVER)
        tls_server, tls_port = spawn_server(BARE_GRPC_SERVER, {"BENCH_TLS_CERTS": str(credentials.certs_dir)})
        try:
            results["bare_aiohttp"] = percentiles(time_http(http_port, "/", args.requests))
            results["bare_grpc_aio_unary"] = percentiles(asyncio.run(_time_grpc(grpc_port, args.requests)))
            results["bare_grpc_aio_unary_mutual_tls"] = percentiles(
                asyncio.run(_time_grpc(tls_port, args.requests, tls))
            )
        finally:
            stop(http_server)
            stop(grpc_server)
            stop(tls_server)

        cluster = LocalCluster(Path(tmp) / "bench", 3, http_port=0, transport_port=0)
        try:
            cluster.start()
            cluster.wait_until_formed(timeout=60)
            first = cluster.node("node-1")
            assert first.http_address is not None
            port = int(first.http_address.rpartition(":")[2])
            results["get_tasks_3_nodes"] = percentiles(time_http(port, "/_tasks", args.requests))
            time.sleep(1.0)  # let the nodes go idle before reading their memory
            results["idle_node_rss_mb"] = {n.name: rss_mb(n.pid) for n in cluster.nodes if n.pid is not None}
        finally:
            cluster.stop()

    tasks = results["get_tasks_3_nodes"]["p50_ms"]  # type: ignore[index]
    bare = results["bare_aiohttp"]["p50_ms"] + results["bare_grpc_aio_unary"]["p50_ms"]  # type: ignore[index]
    results["get_tasks_p50_over_bare_sum"] = round(tasks / bare, 2)
    results["target_ratio"] = 1.5
    text = json.dumps(results, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
