"""The container image, the compose file and the Kubernetes manifests, checked offline.

No Docker engine or Kubernetes cluster is needed: the manifests are validated against the Kubernetes OpenAPI
schemas that `kubernetes-validate` ships, and every file is read for what it tells a node — each setting it sets must
be one a node reads, each path it names must be where the image keeps it.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from node.settings import (
    CONFIG_FILE_NAME,
    IGNORED_SETTINGS,
    PASSWORD_FILE_VARIABLE,
    PATH_CONF_VARIABLE,
    SETTINGS,
    environment_settings,
    read_settings_file,
)

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes" / "simcluster.yaml"
KUBERNETES_VERSIONS = ("1.27.0", "1.30.0")


def is_read_by_a_node(name: str) -> bool:
    """Whether a node reads this setting (or environment variable), so setting it is not a silent no-op."""
    return (
        name in SETTINGS
        or name in IGNORED_SETTINGS
        or name.startswith("node.attr.")
        or name in (PASSWORD_FILE_VARIABLE, PATH_CONF_VARIABLE)
    )


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of each Dockerfile instruction, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def image_settings() -> dict[str, Any]:
    return read_settings_file(ROOT / "deploy" / CONFIG_FILE_NAME, {})


def manifests() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(MANIFESTS.read_text()) if doc]


def kind(name: str) -> dict[str, Any]:
    [document] = [d for d in manifests() if d["kind"] == name and not d["metadata"]["name"].endswith("-headless")]
    return document


# -- the image ------------------------------------------------------------------------------------------------------


def test_the_image_runs_a_node_and_checks_its_local_health() -> None:
    instructions = dict(dockerfile())
    assert instructions["ENTRYPOINT"] == '["python", "-m", "node"]'
    assert "/_cluster/health?local=true" in instructions["HEALTHCHECK"]
    assert instructions["EXPOSE"].split() == ["9200", "9300"]
    assert instructions["VOLUME"] == image_settings()["path.data"]


def test_the_image_environment_names_variables_a_node_reads() -> None:
    [env] = [args for keyword, args in dockerfile() if keyword == "ENV"]
    variables = dict(item.split("=", 1) for item in shlex.split(env))
    assert variables[PATH_CONF_VARIABLE] == "/usr/share/simcluster/config"
    assert all(is_read_by_a_node(name) or name.isupper() for name in variables)


def test_the_image_copies_what_exists_and_its_settings_file_where_the_node_looks() -> None:
    copies = [args.split() for keyword, args in dockerfile() if keyword == "COPY"]
    for *sources, _target in copies:
        for source in (s for s in sources if not s.startswith("--")):
            assert (ROOT / source).exists(), source
    assert ["--chown=1000:0", f"deploy/{CONFIG_FILE_NAME}", f"config/{CONFIG_FILE_NAME}"] in copies


def test_the_image_settings_are_settings_and_point_at_the_mounted_credentials() -> None:
    settings = image_settings()
    assert all(is_read_by_a_node(name) for name in settings)
    certs = "/usr/share/simcluster/config/certs"
    assert settings["xpack.security.transport.ssl.key"] == f"{certs}/transport.key"
    assert settings["xpack.security.transport.ssl.certificate"] == f"{certs}/transport.crt"
    assert settings["xpack.security.transport.ssl.certificate_authorities"] == f"{certs}/ca.crt"
    assert settings["network.host"] == "0.0.0.0"


# -- compose --------------------------------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return document


def nodes_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in document["services"].items() if name != "certs"}


def test_compose_nodes_set_only_settings_a_node_reads() -> None:
    for name, service in nodes_of(compose()).items():
        environment = service["environment"]
        assert all(is_read_by_a_node(key) for key in environment), name
        assert environment_settings({k: str(v) for k, v in environment.items()}) == environment
        assert environment["node.name"] == service["hostname"] == name


def test_compose_forms_one_cluster_of_three() -> None:
    nodes = nodes_of(compose())
    assert len(nodes) == 3
    for name, service in nodes.items():
        environment = service["environment"]
        assert environment["cluster.initial_master_nodes"].split(",") == sorted(nodes)
        assert set(environment["discovery.seed_hosts"].split(",")) == set(nodes) - {name}


def test_compose_nodes_wait_for_the_credentials_and_mount_them_where_the_image_looks() -> None:
    document = compose()
    certs = document["services"]["certs"]
    assert "simcluster certs" in " ".join(certs["command"])
    for service in nodes_of(document).values():
        assert service["depends_on"]["certs"]["condition"] == "service_completed_successfully"
        assert "certs:/usr/share/simcluster/config/certs:ro" in service["volumes"]
        assert any(v.endswith(":" + image_settings()["path.data"]) for v in service["volumes"])
        assert "/_cluster/health?local=true" in " ".join(service["healthcheck"]["test"])
        for volume in service["volumes"]:
            assert volume.split(":")[0] in document["volumes"]


# -- Kubernetes -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_manifests_validate_against_the_kubernetes_schemas(version: str) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="the test extra installs it")
    documents = manifests()
    assert sorted(d["kind"] for d in documents) == ["PodDisruptionBudget", "Service", "Service", "StatefulSet"]
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)


def test_a_broken_manifest_does_not_validate() -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="the test extra installs it")
    statefulset = kind("StatefulSet")
    statefulset["spec"]["replica"] = statefulset["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(statefulset, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_statefulset_discovers_through_its_headless_service() -> None:
    [headless] = [d for d in manifests() if d["metadata"]["name"].endswith("-headless")]
    statefulset = kind("StatefulSet")
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    assert statefulset["spec"]["serviceName"] == headless["metadata"]["name"]
    labels = statefulset["spec"]["template"]["metadata"]["labels"]
    for document in (headless, kind("Service"), kind("PodDisruptionBudget")):
        selector = document["spec"]["selector"]
        assert selector.get("matchLabels", selector).items() <= labels.items()
    [container] = statefulset["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item for item in container["env"]}
    assert all(is_read_by_a_node(name) for name in env)
    assert env["discovery.seed_hosts"]["value"] == headless["metadata"]["name"]
    assert env["node.name"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    name, replicas = statefulset["metadata"]["name"], statefulset["spec"]["replicas"]
    assert env["cluster.initial_master_nodes"]["value"].split(",") == [f"{name}-{i}" for i in range(replicas)]


def test_the_pods_keep_their_data_on_a_volume_and_read_the_credentials_from_a_secret() -> None:
    statefulset = kind("StatefulSet")
    pod = statefulset["spec"]["template"]["spec"]
    [container] = pod["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    [claim] = statefulset["spec"]["volumeClaimTemplates"]
    assert mounts[claim["metadata"]["name"]] == image_settings()["path.data"]
    [secret] = [v for v in pod["volumes"] if "secret" in v]
    certs = mounts[secret["name"]]
    assert image_settings()["xpack.security.transport.ssl.key"] == f"{certs}/transport.key"
    probe = container["readinessProbe"]["httpGet"]
    assert (probe["path"], probe["port"]) == ("/_cluster/health?local=true", "http")
    assert kind("PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
