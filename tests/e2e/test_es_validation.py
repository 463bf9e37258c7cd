"""Bad requests against three real node processes answer with Elasticsearch 9's error, word for word.

Each expected body is what ES builds from the source named beside it: `RestReindexAction` and
`AbstractBaseReindexRestHandler#setCommonOptions` (`max_docs` from the body, then the URL, after `slices`),
`AbstractBulkByScrollRequest#setMaxDocs` and `#validate`, `ReindexRequest#validate`, `ObjectParser#parseValue` (a
field whose parser fails is wrapped in `[reindex] failed to parse field [...]`), `IndexRouting#process` (an empty
`_id`), `RestIndicesAction` (`ClusterHealthStatus#fromString`) and `RestCountAction` / `RestSearchAction`
(`SearchSourceBuilder#terminateAfter`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cluster.launcher import LocalCluster
from tests.support.http import Response, call_with_body

pytestmark = pytest.mark.e2e


def send(cluster: LocalCluster, method: str, path: str, body: Any = None, name: str = "node-2") -> Response:
    url = cluster.node(name).http_url
    assert url is not None
    return call_with_body(url, method, path, body)


def error(es_type: str, reason: str, status: int = 400, cause: dict[str, Any] | None = None) -> dict[str, Any]:
    root = {"type": es_type, "reason": reason}
    top: dict[str, Any] = dict(root)
    if cause is not None:
        top["caused_by"] = cause
    return {"error": {"root_cause": [root], **top}, "status": status}


@pytest.fixture(scope="module")
def cluster(cluster3: LocalCluster) -> Iterator[LocalCluster]:
    created = send(cluster3, "PUT", "/src?wait_for_active_shards=all")
    assert created.status == 200, created.text
    yield cluster3


DEST = {"index": "dest"}

CASES = [
    pytest.param(
        "POST", "/_reindex", {"source": {"size": "cat"}, "dest": {"index": "d"}},
        error(
            "x_content_parse_exception", "[1:24] [reindex] failed to parse field [source]",
            cause={"type": "number_format_exception", "reason": 'For input string: "cat"'},
        ),
        id="reindex-source-size-not-a-number",
    ),
    pytest.param(
        "POST", "/_reindex", {"source": {"index": "src", "size": -2}, "dest": DEST},
        error(
            "x_content_parse_exception", "[1:35] [reindex] failed to parse field [source]",
            cause={"type": "illegal_argument_exception", "reason": "[size] parameter cannot be negative, found [-2]"},
        ),
        id="reindex-source-size-negative",
    ),
    pytest.param(
        "POST", "/_reindex?max_docs=-4", {"source": {"index": "src"}, "dest": DEST},
        error("illegal_argument_exception", "[max_docs] parameter cannot be negative, found [-4]"),
        id="reindex-url-max-docs-negative",
    ),
    pytest.param(
        "POST", "/_reindex", {"source": {"index": "src"}, "dest": DEST, "max_docs": -4},
        error(
            "x_content_parse_exception", "[1:51] [reindex] failed to parse field [max_docs]",
            cause={"type": "illegal_argument_exception", "reason": "[max_docs] parameter cannot be negative, found [-4]"},
        ),
        id="reindex-body-max-docs-negative",
    ),
    pytest.param(
        "POST", "/_reindex?max_docs=1&slices=2", {"source": {"index": "src"}, "dest": DEST},
        error("illegal_argument_exception", "[max_docs] should be >= [slices]"),
        id="reindex-max-docs-below-slices",
    ),
    pytest.param(
        "POST", "/_reindex?max_docs=1", {"source": {"index": "src"}, "dest": DEST, "max_docs": 2},
        error("illegal_argument_exception", "[max_docs] set to two different values [2] and [1]"),
        id="reindex-max-docs-url-and-body-differ",
    ),
    pytest.param(
        "POST", "/_reindex", {"source": {"index": "src", "_source": False}, "dest": DEST},
        error(
            "action_request_validation_exception", "Validation Failed: 1: _source:false is not supported in this context;"
        ),
        id="reindex-source-false",
    ),
    pytest.param(
        "POST", "/_reindex", {"source": {"index": "src", "from": 2}, "dest": DEST},
        error("action_request_validation_exception", "Validation Failed: 1: from is not supported in this context;"),
        id="reindex-from",
    ),
    pytest.param(
        "POST", "/_reindex", {"source": {"index": "src", "stored_fields": "a"}, "dest": DEST},
        error(
            "action_request_validation_exception", "Validation Failed: 1: stored_fields is not supported in this context;"
        ),
        id="reindex-stored-fields",
    ),
    pytest.param(
        "POST", "/_reindex", {"source": {"index": "no-such-index", "from": 1}, "dest": DEST},
        error("action_request_validation_exception", "Validation Failed: 1: from is not supported in this context;"),
        id="reindex-validates-before-the-index-lookup",
    ),
    pytest.param(
        "POST", "/src/_update_by_query?max_docs=-1", None,
        error("illegal_argument_exception", "[max_docs] parameter cannot be negative, found [-1]"),
        id="update-by-query-url-max-docs-negative",
    ),
    pytest.param(
        "POST", "/_bulk", b'{"delete":{"_index":"src","_id":""}}\n',
        error("action_request_validation_exception", "Validation Failed: 1: id is missing;"),
        id="bulk-delete-empty-id",
    ),
    pytest.param(
        "GET", "/_cat/indices?health=invalid", None,
        error("illegal_argument_exception", "unknown cluster health status [invalid]"),
        id="cat-indices-unknown-health",
    ),
    pytest.param(
        "GET", "/_count?terminate_after=-1", None,
        error("illegal_argument_exception", "terminateAfter must be > 0"),
        id="count-terminate-after-negative",
    ),
    pytest.param(
        "GET", "/src/_search?terminate_after=-1", None,
        error("illegal_argument_exception", "terminateAfter must be > 0"),
        id="search-terminate-after-negative",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "expected"), CASES)
def test_bad_request_answers_as_elasticsearch(
    cluster: LocalCluster, method: str, path: str, body: Any, expected: dict[str, Any]
) -> None:
    response = send(cluster, method, path, body)
    assert (response.status, response.json) == (expected["status"], expected)


def test_bulk_item_with_an_empty_id_fails_alone(cluster: LocalCluster) -> None:
    body = b'{"index":{"_index":"src","_id":""}}\n{"a":1}\n{"index":{"_index":"src","_id":"1"}}\n{"a":1}\n'
    response = send(cluster, "POST", "/_bulk", body)
    assert response.status == 200
    first, second = response.json["items"]
    assert response.json["errors"] is True
    assert first == {
        "index": {
            "_index": "src",
            "_id": "",
            "status": 400,
            "error": {"type": "illegal_argument_exception", "reason": "if _id is specified it must not be empty"},
        }
    }
    assert second["index"]["status"] == 201


def test_cat_indices_health_filter_is_case_insensitive(cluster: LocalCluster) -> None:
    response = send(cluster, "GET", "/_cat/indices/src?health=GREEN&h=index")
    assert (response.status, response.text) == (200, "src\n")
