"""Progress of a cluster coming up: what `LocalCluster` reports while it starts and forms, and the line
`simcluster up` shows for it (rewritten in place on a terminal, plain lines otherwise)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TextIO

__all__ = ["FormationProgress", "ProgressLine"]


@dataclass(frozen=True, slots=True)
class FormationProgress:
    """How far a cluster of `total` nodes got: processes that reported ready (`up`), whether a master is known,
    and how many nodes already see the whole cluster (`joined`)."""

    total: int
    up: int = 0
    master_elected: bool = False
    joined: int = 0

    def describe(self) -> str:
        text = f"waiting for {self.total} node{'' if self.total == 1 else 's'}: {self.up} up"
        if self.master_elected:
            text += f", master elected, {self.joined} joined"
        return text


class ProgressLine:
    """One status line: on a terminal it is rewritten in place; elsewhere each change is a plain line, at most one
    a second (the last one always), so logs stay short."""

    def __init__(self, stream: TextIO, *, interval: float = 1.0) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._interval = interval
        self._shown = ""
        self._pending = ""
        self._last_print: float | None = None

    def update(self, progress: FormationProgress) -> None:
        text = progress.describe()
        if text == self._shown:
            return
        if self._tty:
            self._stream.write("\r\x1b[2K" + text)
            self._stream.flush()
            self._shown = text
            return
        now = time.monotonic()
        if self._last_print is None or now - self._last_print >= self._interval:
            self._print(text, now)
        else:
            self._pending = text

    def close(self) -> None:
        """Ends the line: a newline on a terminal, the last change not printed yet elsewhere."""
        if self._tty:
            if self._shown:
                self._stream.write("\n")
                self._stream.flush()
        elif self._pending:
            self._print(self._pending, time.monotonic())

    def _print(self, text: str, now: float) -> None:
        self._stream.write(text + "\n")
        self._stream.flush()
        self._shown = text
        self._pending = ""
        self._last_print = now
