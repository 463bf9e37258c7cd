"""The node's embedded database: one sqlite file in the data directory.

It holds what must survive a restart: the node id and the coordination state (current term, last accepted cluster
state). All writes go through a single-thread executor so the event loop never blocks on disk (DESIGN §1).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["NodeStore", "new_node_id"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def new_node_id() -> str:
    """A 22-character URL-safe base64 id, like ES's `oTUltX4IQMOUUVeiohTt8A`."""
    return base64.urlsafe_b64encode(os.urandom(16)).decode("ascii").rstrip("=")


class NodeStore:
    """Key-value metadata of one node, persisted in `<data_dir>/node.db`."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "node.db"
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._conn = self._executor.submit(self._connect).result()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
        return conn

    def close(self) -> None:
        self._executor.submit(self._conn.close).result()
        self._executor.shutdown(wait=True)

    # Synchronous access is for start-up only, before the node serves anything.
    def load(self, key: str) -> Any | None:
        return self._executor.submit(self._get, key).result()

    def store_now(self, key: str, value: Any) -> None:
        self._executor.submit(self._put, key, value).result()

    async def store(self, key: str, value: Any) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._put, key, value)

    async def execute(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Runs `operation` on the database in the store's single writer thread.

        For components that keep their own tables in this file (e.g. the shard copies' documents of
        `node.indices.shard_store`): they share the connection and the thread, so the loop never blocks and writes
        stay ordered.
        """
        return await asyncio.get_running_loop().run_in_executor(self._executor, operation, self._conn)

    def node_id(self) -> str:
        """The persisted node id, created on first start."""
        existing = self.load("node_id")
        if existing is not None:
            return str(existing)
        node_id = new_node_id()
        self.store_now("node_id", node_id)
        return node_id

    def _get(self, key: str) -> Any | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def _put(self, key: str, value: Any) -> None:
        self._conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )
