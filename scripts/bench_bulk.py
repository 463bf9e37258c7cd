"""Benchmark: bulk indexing, search and reindex throughput of a 3-node cluster.

Usage: python scripts/bench_bulk.py [--docs 20000] [--batch 500] [--runs 3] [--json FILE]

Against real node processes with the default (zero) simulated costs: an index of 3 shards and 1 replica, filled
with `--docs` documents of about 200 bytes in `_bulk` requests of `--batch` documents sent one after another from
one client (every document is written on its primary and its replica); then `match_all` searches of 10 hits, a
`term` search over the whole index, a full scroll in pages of 1,000, and a reindex into a second index. Each
measurement is the median of `--runs` runs on a fresh index. A benchmark, not a test: it prints numbers and never
fails on them.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cluster.launcher import LocalCluster  # noqa: E402

WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett")


class Client:
    """One keep-alive HTTP connection to a node."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self._conn = http.client.HTTPConnection(host, int(port), timeout=600)

    def call(self, method: str, path: str, body: bytes | None = None, ndjson: bool = False) -> Any:
        headers = {"Content-Type": "application/x-ndjson" if ndjson else "application/json"}
        self._conn.request(method, path, body=body, headers=headers)
        response = self._conn.getresponse()
        data = response.read()
        if response.status >= 300:
            raise SystemExit(f"{method} {path} answered {response.status}: {data[:500]!r}")
        return json.loads(data) if data else None


def document(i: int) -> dict[str, Any]:
    return {
        "n": i,
        "group": i % 10,
        "word": WORDS[i % len(WORDS)],
        "message": " ".join(WORDS[(i + k) % len(WORDS)] for k in range(12)),
        "nested": {"flag": i % 2 == 0, "score": i / 7},
    }


def bulk_bodies(docs: int, batch: int) -> list[bytes]:
    bodies = []
    for start in range(0, docs, batch):
        lines = []
        for i in range(start, min(start + batch, docs)):
            lines.append(json.dumps({"index": {"_id": str(i)}}))
            lines.append(json.dumps(document(i)))
        bodies.append(("\n".join(lines) + "\n").encode())
    return bodies


def one_run(client: Client, run: int, docs: int, batch: int) -> dict[str, float]:
    index, copy = f"bench-{run}", f"bench-copy-{run}"
    settings = {"settings": {"number_of_shards": 3, "number_of_replicas": 1}}
    client.call("PUT", f"/{index}?wait_for_active_shards=all", json.dumps(settings).encode())
    bodies = bulk_bodies(docs, batch)
    started = time.monotonic()
    for body in bodies:
        answer = client.call("POST", f"/{index}/_bulk", body, ndjson=True)
        if answer["errors"]:
            raise SystemExit("a bulk item failed")
    bulk_s = time.monotonic() - started
    count = client.call("GET", f"/{index}/_count")["count"]
    if count != docs:
        raise SystemExit(f"counted {count} documents, wrote {docs}")

    searches = 20
    started = time.monotonic()
    for _ in range(searches):
        client.call("POST", f"/{index}/_search", json.dumps({"size": 10, "query": {"match_all": {}}}).encode())
    match_all_ms = (time.monotonic() - started) * 1000 / searches
    started = time.monotonic()
    for _ in range(searches):
        client.call("POST", f"/{index}/_search", json.dumps({"size": 10, "query": {"term": {"group": 3}}}).encode())
    term_ms = (time.monotonic() - started) * 1000 / searches

    started = time.monotonic()
    page = client.call("POST", f"/{index}/_search?scroll=1m", json.dumps({"size": 1000}).encode())
    seen = len(page["hits"]["hits"])
    while page["hits"]["hits"]:
        page = client.call(
            "POST", "/_search/scroll", json.dumps({"scroll": "1m", "scroll_id": page["_scroll_id"]}).encode()
        )
        seen += len(page["hits"]["hits"])
    scroll_s = time.monotonic() - started
    client.call("DELETE", "/_search/scroll", json.dumps({"scroll_id": page["_scroll_id"]}).encode())

    client.call("PUT", f"/{copy}?wait_for_active_shards=all", json.dumps(settings).encode())
    started = time.monotonic()
    reindexed = client.call(
        "POST", "/_reindex", json.dumps({"source": {"index": index}, "dest": {"index": copy}}).encode()
    )
    reindex_s = time.monotonic() - started
    if reindexed["created"] + reindexed["updated"] != docs:
        raise SystemExit(f"reindex wrote {reindexed['created']} documents of {docs}")
    client.call("DELETE", f"/{index},{copy}")
    return {
        "bulk_docs_per_s": docs / bulk_s,
        "match_all_search_ms": match_all_ms,
        "term_search_ms": term_ms,
        "scroll_docs_per_s": seen / scroll_s,
        "reindex_docs_per_s": docs / reindex_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as home:
        cluster = LocalCluster(home, 3, http_port=0, transport_port=0)
        try:
            cluster.start()
            cluster.wait_until_formed()
            client = Client(cluster.node("node-1").http_address or "")
            runs = [one_run(client, run, args.docs, args.batch) for run in range(args.runs)]
        finally:
            cluster.stop(timeout=5.0)
    report = {name: round(statistics.median(r[name] for r in runs), 1) for name in runs[0]}
    print(f"{args.docs} documents in bulks of {args.batch}, 3 shards and 1 replica, median of {args.runs} runs")
    for name, value in report.items():
        print(f"  {name:<22} {value:>10.1f}")
    if args.json is not None:
        args.json.write_text(
            json.dumps({"docs": args.docs, "batch": args.batch, "runs": args.runs, **report}, indent=2) + "\n"
        )


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main()
