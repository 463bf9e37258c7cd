"""`simcluster up --security`: HTTPS with the cluster CA and basic authentication as `elastic`, as ES 9 by default.

Users reach a secured cluster the way they reach a fresh ES 9: `curl --cacert <ca> -u elastic:<password>` and the
official client with `basic_auth` and `ca_certs`. Anything without the password gets ES's 401, and the `simcluster`
commands (status, endpoints, fault, readiness) keep working because they authenticate the same way.
"""

from __future__ import annotations

import json
import os
import ssl
import stat
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from cluster.launcher import LocalCluster
from tests.e2e.conftest import start_local_cluster
from tests.e2e.test_cli import simcluster
from tests.support.nodes import url

pytestmark = pytest.mark.e2e

CHALLENGES = ['Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', "ApiKey"]


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    cluster = start_local_cluster(tmp_path_factory.mktemp("secured-"), security=True)
    try:
        yield cluster
    finally:
        cluster.stop()


def _password(cluster: LocalCluster) -> str:
    password = cluster.credentials.elastic_password()
    assert password is not None
    return password


def curl(cluster: LocalCluster, node: str, path: str, *args: str, user: str | None = None) -> tuple[int, str]:
    """`curl --cacert <home>/certs/ca.crt -u elastic:<password> https://...`: what the README tells users to run."""
    auth = ["-u", user if user is not None else f"elastic:{_password(cluster)}"]
    result = subprocess.run(
        ["curl", "-s", "-w", "\n%{http_code}", "--cacert", str(cluster.credentials.ca_certificate), *auth,
         *args, f"{url(cluster, node)}{path}"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


def https_get(cluster: LocalCluster, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    """GET over HTTPS trusting only the cluster CA; returns status, headers and the JSON body."""
    context = ssl.create_default_context(cafile=str(cluster.credentials.ca_certificate))
    request = urllib.request.Request(f"{url(cluster, 'node-1')}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers, json.loads(e.read())


def test_urls_are_https(secured: LocalCluster) -> None:
    assert all(endpoint.startswith("https://127.0.0.1:") for endpoint in secured.endpoints())


def test_the_readme_tour_works_with_curl_and_the_elastic_password(secured: LocalCluster) -> None:
    ok = [
        ("node-1", "/"),
        ("node-1", "/_cat/nodes?v"),
        ("node-1", "/_cluster/health?pretty"),
        ("node-1", "/_tasks?pretty"),
        ("node-2", "/_tasks?group_by=parents&pretty"),
        ("node-1", "/_tasks?group_by=none&detailed&human&pretty"),
        ("node-1", "/_tasks?nodes=_local&pretty"),
        ("node-1", "/_tasks?nodes=_all,master:false&pretty"),
        ("node-1", "/_tasks?actions=cluster:monitor/tasks/lists&pretty"),
        ("node-1", "/_tasks?actions=*lists*&filter_path=nodes.*.tasks.*.action"),
        ("node-1", "/_security/_authenticate"),
    ]
    for node, path in ok:
        assert curl(secured, node, path, "-H", "X-Opaque-Id: tour")[0] == 200, path
    status, body = curl(secured, "node-1", "/_cluster/health")
    assert json.loads(body)["number_of_nodes"] == 3
    assert curl(secured, "node-1", "/_tasks?detaild")[0] == 400
    assert curl(secured, "node-1", "/_tasks?parent_task_id=-1")[0] == 400
    assert curl(secured, "node-1", "/_tasks", "-X", "DELETE")[0] == 405

    status, body = curl(secured, "node-1", "/_sim/tasks?wait_for_completion=false&depth=2", "-X", "POST")
    assert status == 200, body
    task = json.loads(body)["task"]
    status, body = curl(secured, "node-2", "/_tasks?actions=cluster:admin/tasks/test*&detailed&group_by=parents")
    assert status == 200 and task in json.loads(body)["tasks"], body
    assert curl(secured, "node-3", "/_cat/tasks?v&detailed")[0] == 200
    status, body = curl(secured, "node-1", f"/_tasks/{task}?pretty")
    assert status == 200 and json.loads(body)["completed"] is False
    assert curl(secured, "node-3", f"/_tasks/{task}/_cancel?wait_for_completion=true", "-X", "POST")[0] == 200
    status, body = curl(secured, "node-1", f"/_tasks/{task}")
    assert status == 200 and json.loads(body)["error"]["type"] == "task_cancelled_exception", body


def test_a_request_without_credentials_gets_es_401(secured: LocalCluster) -> None:
    status, headers, body = https_get(secured, "/_tasks?pretty")
    reason = "missing authentication credentials for REST request [/_tasks?pretty]"
    error = {"type": "security_exception", "reason": reason, "header": {"WWW-Authenticate": CHALLENGES}}
    assert status == 401
    assert body == {"error": {"root_cause": [error], **error}, "status": 401}
    assert headers.get_all("WWW-Authenticate") == CHALLENGES
    assert headers["X-elastic-product"] == "Elasticsearch"


def test_a_wrong_password_gets_es_401(secured: LocalCluster) -> None:
    status, body = curl(secured, "node-2", "/", user="elastic:not-the-password")
    reason = "unable to authenticate user [elastic] for REST request [/]"
    error = {"type": "security_exception", "reason": reason, "header": {"WWW-Authenticate": CHALLENGES}}
    assert status == 401
    assert json.loads(body) == {"error": {"root_cause": [error], **error}, "status": 401}


def test_an_unknown_path_without_credentials_is_a_401_not_a_400(secured: LocalCluster) -> None:
    status, _, body = https_get(secured, "/_no_such_api")
    assert status == 401 and body["error"]["type"] == "security_exception"


def test_plain_http_is_not_served(secured: LocalCluster) -> None:
    plain = url(secured, "node-1").replace("https://", "http://")
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(plain, timeout=5).close()


def test_the_official_client_connects_with_basic_auth_and_ca_certs(secured: LocalCluster) -> None:
    es = Elasticsearch(
        secured.endpoints(),
        basic_auth=("elastic", _password(secured)),
        ca_certs=str(secured.credentials.ca_certificate),
    )
    try:
        assert es.info()["cluster_name"] == "simcluster"
        me = es.security.authenticate()
        assert dict(me) == {
            "username": "elastic",
            "roles": ["superuser"],
            "full_name": None,
            "email": None,
            "metadata": {"_reserved": True},
            "enabled": True,
            "authentication_realm": {"name": "reserved", "type": "reserved"},
            "lookup_realm": {"name": "reserved", "type": "reserved"},
            "authentication_type": "realm",
        }
        assert len(es.tasks.list(group_by="parents")["tasks"]) >= 1
        assert len(es.nodes.info()["nodes"]) == 3
        assert es.cluster.health()["number_of_nodes"] == 3
    finally:
        es.close()


def test_simcluster_status_and_endpoints_work_with_security_on(secured: LocalCluster) -> None:
    status = simcluster("status", "--json", "--home", str(secured.home.root))
    assert status.returncode == 0, status.stderr
    document = json.loads(status.stdout)
    assert [n["state"] for n in document["nodes"]] == ["UP", "UP", "UP"]
    assert document["master"] in {"node-1", "node-2", "node-3"}
    endpoints = simcluster("endpoints", "--format", "plain", "--home", str(secured.home.root))
    assert endpoints.stdout.split() == secured.endpoints()
    faults = simcluster("fault", "list", "--home", str(secured.home.root))
    assert faults.returncode == 0, faults.stderr


def test_credentials_in_the_home_are_owner_only(secured: LocalCluster) -> None:
    credentials = secured.credentials
    for path in (
        credentials.ca_key,
        credentials.transport_key,
        credentials.http_key,
        credentials.elastic_password_file,
    ):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    assert stat.S_IMODE(os.stat(credentials.certs_dir).st_mode) == 0o700
    assert len(_password(secured)) == 20


def test_the_first_up_prints_the_password_once_and_later_ups_do_not(tmp_path: Path) -> None:
    home = tmp_path / "home"
    flags = ("--nodes", "1", "--detach", "--home", str(home), "--http-port", "0", "--transport-port", "0")
    try:
        first = simcluster("up", "--security", *flags)
        assert first.returncode == 0, first.stderr
        password = (home / "elastic-password").read_text().strip()
        assert f"\n  {password}\n" in first.stdout
        assert simcluster("down", "--home", str(home)).returncode == 0
        again = simcluster("up", *flags)  # security stays on: options left out mean "as before"
        assert again.returncode == 0, again.stderr
        assert password not in again.stdout
        assert f"Password for the elastic user: in {home / 'elastic-password'}" in again.stdout
        endpoints = simcluster("endpoints", "--home", str(home))
        assert endpoints.stdout.startswith("ES_HOSTS=https://")
    finally:
        simcluster("down", "--home", str(home))


def test_up_binds_the_host_asked_for_and_its_certificate_names_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    flags = ("--nodes", "1", "--detach", "--home", str(home), "--http-port", "0", "--transport-port", "0")
    try:
        up = simcluster("up", "--host", "127.0.0.2", "--security", *flags)
        assert up.returncode == 0, up.stderr
        assert "warning" not in up.stderr  # loopback: no warning
        cluster = LocalCluster.attach(home)
        [endpoint] = cluster.endpoints()
        assert endpoint.startswith("https://127.0.0.2:")
        assert curl(cluster, "node-1", "/_cat/nodes?h=ip")[1].strip() == "127.0.0.2"
        status = simcluster("status", "--json", "--home", str(home))
        assert [n["state"] for n in json.loads(status.stdout)["nodes"]] == ["UP"]
    finally:
        simcluster("down", "--home", str(home))
