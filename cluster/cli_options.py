"""What every `simcluster` command shares: the error-mapping group, `--home`, and duration parameters.

Every failure a command meets is one line on stderr (`Error: ...`) with exit code 1, never a traceback: launcher
errors, OS errors and bad parameters alike.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from cluster.errors import ClusterError
from cluster.state import DEFAULT_HOME
from node.config import parse_duration_ms

__all__ = ["DURATION", "SimclusterGroup", "echo_log_tails", "home_flag", "home_option"]

_F = TypeVar("_F", bound=Callable[..., Any])


def echo_log_tails(error: ClusterError) -> None:
    for name, lines in error.log_tails.items():
        click.echo(f"--- {name}: last {len(lines)} log lines ---", err=True)
        for line in lines:
            click.echo(line, err=True)


class SimclusterGroup(click.Group):
    """Turns launcher and OS errors raised by any sub-command into click's one-line `Error: ...`."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ClusterError as e:
            echo_log_tails(e)
            raise click.ClickException(e.message) from None
        except OSError as e:
            raise click.ClickException(str(e)) from None


def home_option(f: _F) -> _F:
    return click.option(
        "--home",
        type=click.Path(path_type=Path, file_okay=False),
        default=DEFAULT_HOME,
        envvar="SIMCLUSTER_HOME",
        show_default=True,
        show_envvar=True,
        help="Cluster home: cluster.json and the node data directories.",
    )(f)


def home_flag(home: Path) -> str:
    """` --home DIR` when not the default, to paste into a suggested command."""
    return "" if home == DEFAULT_HOME else f" --home {home}"


class _Duration(click.ParamType):
    """`500ms`, `2s`, `1m`, `1h` → milliseconds (the node flags' duration syntax)."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_duration_ms(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)


DURATION = _Duration()
