"""What a node's log leaves out (`node.logs`)."""

from __future__ import annotations

import logging

from node.logs import _streams_ended_by_stopping


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("grpc._cython.cygrpc", logging.ERROR, __file__, 1, message, None, None)


def test_the_streams_a_stopping_node_ends_are_not_errors() -> None:
    root = logging.getLogger()
    level = root.level
    try:
        root.setLevel(logging.INFO)
        assert not _streams_ended_by_stopping(
            record("Aborting method [/simcluster.Transport/Connect] due to server stop.")
        )
        assert _streams_ended_by_stopping(record("Unexpected error in RPC handling"))
        root.setLevel(logging.DEBUG)
        assert _streams_ended_by_stopping(record("Aborting method [/simcluster.Transport/Connect] due to server stop."))
    finally:
        root.setLevel(level)
