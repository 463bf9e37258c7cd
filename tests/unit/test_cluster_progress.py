"""The progress line `simcluster up` shows while many nodes start and form a cluster."""

from __future__ import annotations

import io

from cluster.progress import FormationProgress, ProgressLine


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_describes_nodes_up_then_the_master_and_joins() -> None:
    assert FormationProgress(20, up=12).describe() == "waiting for 20 nodes: 12 up"
    assert (
        FormationProgress(20, up=20, master_elected=True, joined=7).describe()
        == "waiting for 20 nodes: 20 up, master elected, 7 joined"
    )
    assert FormationProgress(1, up=0).describe() == "waiting for 1 node: 0 up"


def test_on_a_terminal_one_line_is_rewritten_in_place() -> None:
    out = _Terminal()
    line = ProgressLine(out)
    line.update(FormationProgress(3, up=1))
    line.update(FormationProgress(3, up=2))
    line.close()
    assert out.getvalue() == "\r\x1b[2Kwaiting for 3 nodes: 1 up\r\x1b[2Kwaiting for 3 nodes: 2 up\n"


def test_elsewhere_changes_are_plain_lines_at_most_one_per_interval_and_the_last_always() -> None:
    out = io.StringIO()
    line = ProgressLine(out, interval=3600)
    for up in range(1, 4):
        line.update(FormationProgress(3, up=up))
    line.close()
    assert out.getvalue().splitlines() == ["waiting for 3 nodes: 1 up", "waiting for 3 nodes: 3 up"]


def test_nothing_is_written_when_nothing_was_reported() -> None:
    out = _Terminal()
    ProgressLine(out).close()
    assert out.getvalue() == ""
