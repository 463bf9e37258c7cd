"""Pure rendering of cluster status for the CLI: tables, JSON documents, endpoint lists.

Kept apart from the CLI so the exact output is unit-tested without starting anything, and so scripts that import
the launcher can render the same tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cluster.state import ClusterStatus, NodeRecord, NodeState
from node.common.roles import abbreviate_roles

__all__ = [
    "endpoints_text",
    "faults_table",
    "format_table",
    "security_banner",
    "status_json",
    "status_table",
]


def format_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, like `docker ps`; no trailing spaces."""
    all_rows = [list(headers), *(list(row) for row in rows)]
    widths = [max(len(row[i]) for row in all_rows) for i in range(len(headers))]
    lines = ("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in all_rows)
    return "\n".join(line.rstrip() for line in lines)


def status_table(status: ClusterStatus, *, with_state: bool) -> str:
    """The node table of `up` (without STATE) and `status` (with it); `*` marks the elected master."""
    headers = ["NAME", *(["STATE"] if with_state else []), "NODE ID", "PID", "HTTP", "TRANSPORT", "ROLES", "MASTER"]
    rows = []
    for n in status.nodes:
        down = n.state is NodeState.DOWN
        rows.append(
            [
                n.name,
                *([n.state.value] if with_state else []),
                n.node_id or "-",
                "-" if down or n.pid is None else str(n.pid),
                n.http_address or "-",
                n.transport_address or "-",
                abbreviate_roles(n.roles),
                "*" if n.is_master else "-",
            ]
        )
    return format_table(headers, rows)


def status_json(status: ClusterStatus) -> str:
    """`status --json`: a stable document for scripts (pids and addresses `null` when unknown)."""
    document: dict[str, Any] = {
        "cluster_name": status.cluster_name,
        "home": str(status.home),
        "master": status.master,
        "nodes": [
            {
                "name": n.name,
                "state": n.state.value,
                "node_id": n.node_id,
                "pid": None if n.state is NodeState.DOWN else n.pid,
                "http_address": n.http_address,
                "transport_address": n.transport_address,
                "roles": list(n.roles),
                "master": n.is_master,
                "data_dir": str(n.data_dir),
                "log_file": str(n.log_file),
            }
            for n in status.nodes
        ],
    }
    return json.dumps(document, indent=2)


def endpoints_text(nodes: Sequence[NodeRecord], output_format: str) -> str:
    """The HTTP endpoints of `nodes`: `env` (`ES_HOSTS=a,b`), `plain` (one URL a line) or `json`."""
    urls = [n.http_url for n in nodes if n.http_url is not None]
    if output_format == "env":
        return f"ES_HOSTS={','.join(urls)}"
    if output_format == "plain":
        return "\n".join(urls)
    if output_format == "json":
        return json.dumps(
            [{"name": n.name, "url": n.http_url, "transport_address": n.transport_address} for n in nodes],
            indent=2,
        )
    raise ValueError(f"unknown endpoints format [{output_format}]")


def security_banner(
    *, ca_certificate: Path, fingerprint: str, password_file: Path, new_password: str | None, url: str
) -> str:
    """What `up --security` prints once the cluster formed, after ES's first-start banner: the generated password
    (only the first time, as ES), the CA's fingerprint, and a request that works."""
    password = new_password if new_password is not None else f"$(cat {password_file})"
    lines = ["Security is on: HTTPS with the cluster CA, and authentication as the elastic user.", ""]
    if new_password is not None:
        lines += [f"Password for the elastic user (shown this once; kept in {password_file}):", f"  {new_password}"]
    else:
        lines += [f"Password for the elastic user: in {password_file}"]
    lines += [
        "",
        "HTTP CA certificate SHA-256 fingerprint:",
        f"  {fingerprint}",
        "",
        "Try it:",
        f'  curl --cacert {ca_certificate} -u "elastic:{password}" {url}',
    ]
    return "\n".join(lines)


def _fault_detail(fault: dict[str, Any]) -> str:
    if fault.get("kind") == "delay":
        return f"{fault.get('delay_millis')}ms±{fault.get('jitter_millis')}ms"
    if fault.get("kind") == "drop":
        return f"p={fault.get('probability')}"
    return "-"


def _expires(fault: dict[str, Any]) -> str:
    millis = fault.get("expires_in_millis")
    return "-" if millis is None else f"{millis / 1000:.1f}s"


def faults_table(faults_by_node: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> str:
    """`fault list`: one row per rule, grouped by the node that holds it (the sending side of the link)."""
    headers = ["FAULT", "FROM", "TO", "KIND", "DETAIL", "ACTIONS", "EXPIRES", "AFFECTED", "ID"]
    rows = [
        [
            str(fault.get("group")),
            name,
            str(fault.get("target_name") or fault.get("target")),
            str(fault.get("kind")),
            _fault_detail(fault),
            ",".join(fault.get("actions") or ["*"]),
            _expires(fault),
            str(fault.get("affected_requests", 0)),
            str(fault.get("id")),
        ]
        for name, faults in faults_by_node
        for fault in faults
    ]
    return format_table(headers, rows)
