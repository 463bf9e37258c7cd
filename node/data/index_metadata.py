"""Index metadata in the cluster state: names, settings, and the JSON kept in `metadata["indices"]`.

Mirrors ES `IndexMetadata` and the validation of `MetadataCreateIndexService`. Each index is one JSON object under
`metadata["indices"][name]`, persisted with the rest of the metadata across full-cluster restarts:

    {"settings": {"index.number_of_shards": "3", "index.number_of_replicas": "1", "index.uuid": "...",
                  "index.creation_date": "1714641301123", "index.provided_name": "logs", ...},
     "state": "open",
     "primary_terms": [1, 1, 1],
     "in_sync_allocations": [["<node id>", ...], ...]}

`in_sync_allocations` is ES's set of in-sync allocation ids per shard; a shard copy lives on at most one node here,
so the node id is its allocation id. A legacy entry that is only a flat settings map (what
`node.storage.task_results.with_tasks_index` writes for `.tasks`) is read as an index with no uuid yet; the master
upgrades it (`upgrade_legacy`) in its next reroute.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from node.data.errors import InvalidIndexNameError, ParseError
from node.errors import IllegalArgumentError, NumberFormatError

__all__ = [
    "DEFAULT_REPLICAS",
    "DEFAULT_SHARDS",
    "IndexMetadata",
    "IndexSettings",
    "indices_of",
    "normalize_settings",
    "parse_create_index_body",
    "parse_index_settings",
    "upgrade_legacy",
    "validate_index_name",
    "with_index_metadata",
]

DEFAULT_SHARDS = 1  # ES 7.0+
DEFAULT_REPLICAS = 1
MAX_SHARDS = 1024
MAX_INDEX_NAME_BYTES = 255
# ES `Strings.INVALID_FILENAME_CHARS`, printed in the classic order (ES 8 prints a `Set.of`, whose order varies).
INVALID_FILENAME_CHARS = ("\\", "/", "*", "?", '"', "<", ">", "|", " ", ",")
_INVALID_CHARS_TEXT = "[" + ", ".join(INVALID_FILENAME_CHARS) + "]"

# Settings ES fills in itself; a request may not set them (`private index setting [...] can not be set explicitly`).
PRIVATE_SETTINGS = frozenset({"index.uuid", "index.creation_date", "index.provided_name", "index.version.created"})
_JAVA_INT = re.compile(r"[+-]?[0-9]+")
_INT_MAX = 2**31 - 1


def validate_index_name(name: str) -> None:
    """ES `MetadataCreateIndexService#validateIndexOrAliasName` plus the lower-case rule of `validateIndexName`.

    Raises:
        InvalidIndexNameError: the first rule the name breaks, in ES's order.
    """
    if any(c in name for c in INVALID_FILENAME_CHARS):
        raise InvalidIndexNameError(name, f"must not contain the following characters {_INVALID_CHARS_TEXT}")
    if not name:
        raise InvalidIndexNameError(name, "must not be empty")
    if "#" in name:
        raise InvalidIndexNameError(name, "must not contain '#'")
    if ":" in name:
        raise InvalidIndexNameError(name, "must not contain ':'")
    if name[0] in "_-+":
        raise InvalidIndexNameError(name, "must not start with '_', '-', or '+'")
    length = len(name.encode("utf-8"))
    if length > MAX_INDEX_NAME_BYTES:
        raise InvalidIndexNameError(name, f"index name is too long, ({length} > {MAX_INDEX_NAME_BYTES})")
    if name in (".", ".."):
        raise InvalidIndexNameError(name, "must not be '.' or '..'")
    if name.lower() != name:
        raise InvalidIndexNameError(name, "must be lowercase")


def _setting_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def normalize_settings(raw: Mapping[str, Any], *, prefix: str = "index.") -> dict[str, str]:
    """Flattens nested settings into dotted keys of strings and adds `prefix` where missing (ES
    `Settings.Builder#loadFromMap` then `normalizePrefix`). A null value stays None (a reset)."""
    flat: dict[str, Any] = {}

    def walk(path: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, child in value.items():
                walk(f"{path}.{key}" if path else str(key), child)
        else:
            flat[path] = value

    walk("", raw)
    out: dict[str, str] = {}
    for key, value in flat.items():
        full = key if not prefix or key.startswith(prefix) else prefix + key
        out[full] = None if value is None else _setting_text(value)  # type: ignore[assignment]
    return out


def _parse_int_setting(key: str, value: str, minimum: int, maximum: int = _INT_MAX) -> int:
    """ES `Setting#parseInt` inside `Setting#get`: a NumberFormatException becomes `Failed to parse value [...]`."""
    if not _JAVA_INT.fullmatch(value) or abs(int(value)) > _INT_MAX + 1:
        raise IllegalArgumentError(
            f"Failed to parse value [{value}] for setting [{key}]",
            cause=NumberFormatError(f'For input string: "{value}"'),
        )
    number = int(value)
    if number < minimum:
        raise IllegalArgumentError(f"Failed to parse value [{value}] for setting [{key}] must be >= {minimum}")
    if number > maximum:
        raise IllegalArgumentError(f"Failed to parse value [{value}] for setting [{key}] must be <= {maximum}")
    return number


def _parse_bool_setting(value: str) -> bool:
    if value in ("true", "false"):
        return value == "true"
    raise IllegalArgumentError(f"Failed to parse value [{value}] as only [true] or [false] are allowed.")


def parse_auto_expand(value: str | None) -> tuple[int, int] | None:
    """ES `AutoExpandReplicas#parse`: `false` (None), `min-max` or `min-all` (max is then Integer.MAX_VALUE)."""
    if value is None or value == "false":
        return None
    key = "index.auto_expand_replicas"
    dash = value.find("-")
    error = IllegalArgumentError(f"failed to parse [{key}] from value: [{value}] at index {dash}")
    if dash == -1 or not _JAVA_INT.fullmatch(value[:dash]):
        raise error
    maximum_text = value[dash + 1 :]
    if maximum_text != "all" and not _JAVA_INT.fullmatch(maximum_text):
        raise error
    minimum = int(value[:dash])
    maximum = _INT_MAX if maximum_text == "all" else int(maximum_text)
    if minimum > maximum:
        raise IllegalArgumentError(f"[{key}] minReplicas must be =< maxReplicas but wasn't {minimum} > {maximum}")
    return minimum, maximum


# Index settings accepted at creation besides the ones read below; their values are kept but change nothing here.
_ACCEPTED_SETTINGS = (
    "index.refresh_interval",
    "index.codec",
    "index.max_result_window",
    "index.number_of_routing_shards",
    "index.priority",
    "index.routing.allocation.",
    "index.blocks.",
    "index.mapping.",
    "index.translog.",
    "index.lifecycle.",
    "index.query.default_field",
    "index.analysis.",
    "index.sort.",
)


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """The settings that shape an index here: its shard count, its replicas and whether it is hidden."""

    number_of_shards: int
    number_of_replicas: int
    auto_expand_replicas: tuple[int, int] | None
    hidden: bool


def parse_index_settings(settings: Mapping[str, str | None]) -> IndexSettings:
    """Validates user-given `index.*` settings as ES's index-scoped settings do.

    Raises:
        IllegalArgumentError: an unknown or private setting, or a value out of range (ES's texts).
    """
    for key in settings:
        if key in PRIVATE_SETTINGS:
            raise IllegalArgumentError(f"private index setting [{key}] can not be set explicitly")
        known = key in (
            "index.number_of_shards",
            "index.number_of_replicas",
            "index.auto_expand_replicas",
            "index.hidden",
        )
        if not known and not any(key == s or (s.endswith(".") and key.startswith(s)) for s in _ACCEPTED_SETTINGS):
            raise IllegalArgumentError(
                f"unknown setting [{key}] please check that any required plugins are installed, or check the "
                "breaking changes documentation for removed settings"
            )
    shards_text = settings.get("index.number_of_shards")
    replicas_text = settings.get("index.number_of_replicas")
    shards = (
        DEFAULT_SHARDS
        if shards_text is None
        else _parse_int_setting("index.number_of_shards", shards_text, 1, MAX_SHARDS)
    )
    replicas = (
        DEFAULT_REPLICAS if replicas_text is None else _parse_int_setting("index.number_of_replicas", replicas_text, 0)
    )
    hidden_text = settings.get("index.hidden")
    hidden = False if hidden_text is None else _parse_bool_setting(hidden_text)
    return IndexSettings(shards, replicas, parse_auto_expand(settings.get("index.auto_expand_replicas")), hidden)


def parse_create_index_body(body: Mapping[str, Any]) -> dict[str, str]:
    """The `index.*` settings of a create-index body (ES `CreateIndexRequest#source`).

    `mappings` and `aliases` are accepted and ignored: documents are stored as they come, no mapping is enforced.

    Raises:
        ParseError: a top-level key other than `settings`, `mappings` and `aliases`.
    """
    settings: dict[str, str] = {}
    for key, value in body.items():
        if key == "settings":
            if not isinstance(value, Mapping):
                raise ParseError("key [settings] must be an object")
            settings = {k: v for k, v in normalize_settings(value).items() if v is not None}
        elif key not in ("mappings", "aliases"):
            raise ParseError(f"unknown key [{key}] for create index")
    return settings


@dataclass(frozen=True, slots=True)
class IndexMetadata:
    """One index as the cluster state holds it; `settings` are ES's flat `index.*` strings."""

    name: str
    settings: Mapping[str, str]
    primary_terms: tuple[int, ...]
    in_sync: tuple[frozenset[str], ...]
    state: str = "open"
    # ES `AliasMetadata` by alias name, each in its `toXContent` shape (`filter`, `index_routing`,
    # `search_routing`, `is_write_index`, `is_hidden`, only those set), and the mapping as given (stored, not
    # enforced: documents are not parsed against it).
    aliases: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    mappings: Mapping[str, Any] = field(default_factory=dict)
    parsed: IndexSettings = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        user = {k: v for k, v in self.settings.items() if k not in PRIVATE_SETTINGS}
        try:
            parsed = parse_index_settings(user)
        except IllegalArgumentError:  # a legacy or hand-made entry: keep what can be read
            parsed = IndexSettings(int(self.settings.get("index.number_of_shards", "1")), 0, None, False)
        object.__setattr__(self, "parsed", parsed)

    @property
    def uuid(self) -> str:
        return self.settings.get("index.uuid", "_na_")

    @property
    def number_of_shards(self) -> int:
        return self.parsed.number_of_shards

    @property
    def number_of_replicas(self) -> int:
        return self.parsed.number_of_replicas

    @property
    def hidden(self) -> bool:
        return self.parsed.hidden or self.settings.get("index.hidden") == "true"

    @property
    def creation_date(self) -> int:
        return int(self.settings.get("index.creation_date", "0"))

    def with_replicas(self, replicas: int) -> IndexMetadata:
        return replace(self, settings={**self.settings, "index.number_of_replicas": str(replicas)})

    @property
    def is_closed(self) -> bool:
        return self.state == "close"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "settings": dict(self.settings),
            "state": self.state,
            "primary_terms": list(self.primary_terms),
            "in_sync_allocations": [sorted(ids) for ids in self.in_sync],
        }
        if self.aliases:
            out["aliases"] = {name: dict(alias) for name, alias in self.aliases.items()}
        if self.mappings:
            out["mappings"] = dict(self.mappings)
        return out

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> IndexMetadata:
        """Reads an entry of `metadata["indices"]`, also the legacy flat-settings form."""
        if "settings" not in data:
            settings = {str(k): _setting_text(v) for k, v in data.items()}
            shards = int(settings.get("index.number_of_shards", "1"))
            return cls(name, settings, (1,) * shards, (frozenset(),) * shards)
        shards = int(data["settings"].get("index.number_of_shards", "1"))
        terms = tuple(data.get("primary_terms") or (1,) * shards)
        in_sync = tuple(frozenset(ids) for ids in data.get("in_sync_allocations") or [[]] * shards)
        return cls(
            name,
            dict(data["settings"]),
            terms,
            in_sync,
            data.get("state", "open"),
            dict(data.get("aliases") or {}),
            dict(data.get("mappings") or {}),
        )

    @classmethod
    def create(
        cls, name: str, user_settings: Mapping[str, str], *, uuid: str, creation_date: int, version_created: str
    ) -> IndexMetadata:
        """A new index: the user's settings plus the defaults and private settings ES adds at creation."""
        parsed = parse_index_settings(user_settings)
        settings = {
            **{k: v for k, v in user_settings.items()},
            "index.number_of_shards": str(parsed.number_of_shards),
            "index.number_of_replicas": str(parsed.number_of_replicas),
            "index.uuid": uuid,
            "index.creation_date": str(creation_date),
            "index.provided_name": name,
            "index.version.created": version_created,
        }
        shards = parsed.number_of_shards
        return cls(name, dict(sorted(settings.items())), (1,) * shards, (frozenset(),) * shards)


def indices_of(metadata: Mapping[str, Any]) -> dict[str, IndexMetadata]:
    """Every index of the metadata, by name."""
    entries = metadata.get("indices") or {}
    return {name: IndexMetadata.from_json(name, entry) for name, entry in entries.items()}


def with_index_metadata(metadata: Mapping[str, Any], index: IndexMetadata) -> dict[str, Any]:
    """A copy of `metadata` with `index` written into `metadata["indices"]`."""
    out = dict(metadata)
    out["indices"] = {**(metadata.get("indices") or {}), index.name: index.to_json()}
    return out


def upgrade_legacy(
    metadata: Mapping[str, Any], new_uuid: Callable[[], str], now_millis: int, version_created: str
) -> Mapping[str, Any]:
    """Gives every flat-settings entry (`.tasks` as the stored-results service creates it) a uuid, a creation date
    and ES's structure; `metadata` itself when there is none, so an unchanged state stays the same object."""
    entries = metadata.get("indices") or {}
    # An entry rewritten into ES's structure before it got its uuid (by an update that rewrote every index) is
    # still one: without a uuid its shards would be allocated and never started.
    legacy = [name for name, entry in entries.items() if "index.uuid" not in entry.get("settings", {})]
    if not legacy:
        return metadata
    out = dict(metadata)
    indices = dict(entries)
    for name in legacy:
        entry = entries[name]
        flat = {str(k): _setting_text(v) for k, v in entry.get("settings", entry).items()}
        settings = {
            **flat,
            "index.uuid": new_uuid(),
            "index.creation_date": str(now_millis),
            "index.provided_name": name,
            "index.version.created": version_created,
        }
        settings.setdefault("index.number_of_replicas", "0" if "index.auto_expand_replicas" in flat else "1")
        shards = int(settings.get("index.number_of_shards", "1"))
        index = IndexMetadata(name, dict(sorted(settings.items())), (1,) * shards, (frozenset(),) * shards)
        indices[name] = index.to_json()
    out["indices"] = indices
    return out
