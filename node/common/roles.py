"""Node roles: the names ES knows and the letters it abbreviates them to (ES `DiscoveryNodeRole`).

One table serves `_cat/nodes`, node selectors (`nodes=data:true`) and the `simcluster status` table, so the three
can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["BUILT_IN_ROLES", "DEFAULT_ROLES", "KNOWN_ROLES", "ROLE_ABBREVIATIONS", "abbreviate_roles"]

# ES DiscoveryNodeRole#roleNameAbbreviation, for every built-in role.
ROLE_ABBREVIATIONS: dict[str, str] = {
    "data": "d",
    "data_cold": "c",
    "data_content": "s",
    "data_frozen": "f",
    "data_hot": "h",
    "data_warm": "w",
    "index": "I",
    "ingest": "i",
    "master": "m",
    "ml": "l",
    "remote_cluster_client": "r",
    "search": "S",
    "transform": "t",
    "voting_only": "v",
}
BUILT_IN_ROLES: frozenset[str] = frozenset(ROLE_ABBREVIATIONS)
# The roles a simcluster node may be started with (`index` and `search` belong to stateless ES only).
KNOWN_ROLES: frozenset[str] = BUILT_IN_ROLES - {"index", "search"}
DEFAULT_ROLES: tuple[str, ...] = ("data", "ingest", "master")


def abbreviate_roles(roles: Iterable[str]) -> str:
    """`("data", "ingest", "master")` → `dim`: the letters sorted, `-` for a coordinating-only node (as ES)."""
    return "".join(sorted(ROLE_ABBREVIATIONS.get(role, "") for role in roles)) or "-"
