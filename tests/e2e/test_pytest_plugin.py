"""The pytest plugin installed with the package, run the way users run it: in a pytest session of its own
(pytest's `pytester`), with the plugin loaded through its `pytest11` entry point."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e
pytest_plugins = ["pytester"]

_SESSION_CLUSTER = """
def test_three_nodes_answer(simcluster):
    assert len(simcluster.urls) == 3
    es = simcluster.client()
    assert es.cluster.health(wait_for_nodes="3")["number_of_nodes"] == 3
    assert es.info()["cluster_name"] == "simcluster"


def test_the_session_shares_one_cluster(simcluster):
    assert simcluster.url("node-2") in simcluster.urls
"""

_FAULTS = """
def test_kill_partition_and_heal(simcluster_factory):
    cluster = simcluster_factory(nodes=3)
    fault = cluster.isolate("node-3")
    cluster.wait_for_nodes(2, via="node-1")
    cluster.heal(fault)
    cluster.wait_for_nodes(3, via="node-1")
    assert cluster.kill("node-2")
    cluster.wait_for_nodes(2, via="node-1")
    assert cluster.start("node-2")
    cluster.wait_for_nodes(3, via="node-2")


def test_a_cluster_of_another_size(simcluster_factory):
    cluster = simcluster_factory(nodes=1)
    assert cluster.client().cluster.health()["number_of_nodes"] == 1
"""


def test_the_plugin_is_installed_and_starts_nothing_unasked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess("--fixtures")
    result.stdout.fnmatch_lines(["*simcluster*session*", "*simcluster_factory*"])
    run = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    run.assert_outcomes(passed=1)
    assert not list(pytester.path.rglob("simcluster-*")), "a cluster was started though no test asked for one"


def test_session_fixture_gives_a_three_node_cluster_and_a_client(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(_SESSION_CLUSTER)
    result = pytester.runpytest_subprocess("-q", "-W", "ignore::Warning")
    result.assert_outcomes(passed=2)


def test_factory_and_fault_helpers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(_FAULTS)
    result = pytester.runpytest_subprocess("-q", "-W", "ignore::Warning")
    result.assert_outcomes(passed=2)


def test_a_failed_test_reports_the_logs_of_its_nodes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "def test_fails(simcluster_factory):\n    simcluster_factory(nodes=1)\n    assert False, 'on purpose'\n"
    )
    result = pytester.runpytest_subprocess("-q", "-W", "ignore::Warning")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*log of node-1 in *", '*"message":"started"*'])
