"""10,000 generated hostile requests against a 3-node cluster: every answer is one ES could give, and the cluster
stays whole.

The requests come from `tests.support.bad_requests` (hypothesis, derandomized: the same requests every run), 25 per
example, sent concurrently over keep-alive connections to all three nodes. An answer fails the test when it is a
plain-text error, an error body that is not ES's shape, or a 5xx that only a Python failure gives; every such answer
is collected and reported together.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from cluster.launcher import LocalCluster
from tests.support.bad_requests import BadRequest, answer_problem, bad_requests
from tests.support.http import KeepAliveSender, call
from tests.support.nodes import assert_cluster_whole, url

pytestmark = pytest.mark.e2e

REQUESTS = 10_000
BATCH = 25
_CONNECTIONS = 8
_UNHANDLED = '"log.logger":"aiohttp.server"'  # aiohttp logs there only what escaped every handler


@pytest.fixture
def stressed(fresh_cluster3: LocalCluster) -> Iterator[LocalCluster]:
    base = url(fresh_cluster3, "node-1")
    body = b'{"settings":{"number_of_shards":2,"number_of_replicas":1}}'
    assert call(base, "PUT", "/stress", body=body, headers={"Content-Type": "application/json"}).status == 200
    docs = b"".join(b'{"index":{"_id":"%d"}}\n{"n":%d}\n' % (i, i) for i in range(4))
    call(base, "POST", "/stress/_bulk?refresh=true", body=docs, headers={"Content-Type": "application/x-ndjson"})
    yield fresh_cluster3


def test_ten_thousand_hostile_requests_get_es_answers_and_the_cluster_stays_whole(stressed: LocalCluster) -> None:
    sender = KeepAliveSender([url(stressed, name) for name in stressed.names])
    statuses: Counter[int] = Counter()
    problems: list[str] = []
    server_errors: list[str] = []  # 5xx that ES gives too (e.g. no copy of a shard): reported, not failed
    sent = 0

    def check(numbered: tuple[int, BadRequest]) -> None:
        nonlocal sent
        n, request = numbered
        status, content_type, body = sender.send(n % 3, request.method, request.path, request.headers, request.body)
        problem = answer_problem(request, status, content_type, body)
        with lock:
            sent += 1
            statuses[status] += 1
            if problem is not None:
                problems.append(f"{status} for {request}: {problem}")
            elif status >= 500:
                server_errors.append(f"{status} for {request}: {body[:300]!r}")

    lock = threading.Lock()
    with ThreadPoolExecutor(_CONNECTIONS) as pool:

        @settings(
            max_examples=REQUESTS // BATCH,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(bad_requests(BATCH))
        def send_batch(batch: list[BadRequest]) -> None:
            list(pool.map(check, enumerate(batch)))

        send_batch()

    print(f"sent {sent} requests, statuses {dict(sorted(statuses.items()))}")
    print("\n".join(server_errors))
    assert sent >= REQUESTS
    assert not problems, f"{len(problems)} answers ES would not give, e.g.:\n" + "\n".join(problems[:20])
    for record in stressed.nodes:  # a dropped connection is retried by the sender: the server's log tells
        unhandled = [line[:600] for line in record.log_file.read_text().splitlines() if _UNHANDLED in line]
        assert unhandled == [], f"{record.name} failed requests with a Python error: {unhandled[:3]}"
    assert_cluster_whole(stressed)
