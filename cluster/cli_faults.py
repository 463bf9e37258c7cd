"""`simcluster fault ...` and `simcluster chaos`: network faults between nodes, and seeded chaos runs.

Fault verbs follow blockade (`partition`, `slow`, `flaky`, `fast`) and Jepsen's shapes; each installs rules on the
sending side of every disrupted link through the nodes' `/_sim/faults` (`cluster.fault_client`):

| verb | links disrupted |
| --- | --- |
| `fault isolate NAME` | NAME ↔ every other node |
| `fault partition SIDE SIDE [SIDE...]` | every link between sides (a side is `node-1,node-2`; unnamed nodes form one more) |
| `fault bridge SIDE NAME SIDE` | the two sides from each other; NAME still talks to both |
| `fault delay FROM TO DELAY [--jitter J]` | FROM → TO (`--both`: and back), each request `DELAY ± J` late |
| `fault drop FROM TO PROBABILITY` | FROM → TO, each request dropped with that probability |
| `fault blackhole FROM TO` | FROM → TO: requests hang until their deadline |
| `fault disconnect FROM TO` | FROM → TO: requests fail at once |
| `fault list` / `fault heal [FAULT]` | what is in force / remove it all (or one fault) |

Partition shapes black-hole their links by default, as an iptables DROP (Jepsen) would; `--kind disconnect`
makes them fail fast instead, as a refused connection (ES `NetworkDisconnect`). Every install takes `--duration`
(the rules expire on their own) and `--actions` (only requests of those actions, ES's per-action rules).
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from cluster.chaos import ChaosRunner, default_journal_path
from cluster.chaos_plan import EVENT_KINDS, check_event_kinds, plan_chaos
from cluster.cli_options import DURATION, home_option
from cluster.disruption import Link, bridge, describe_sides, isolate, link, parse_side, partition
from cluster.errors import FaultError
from cluster.fault_client import (
    FaultOptions,
    NodeAnswer,
    fault_bodies,
    heal_faults,
    install_faults,
    list_faults,
    new_group_id,
    remove_faults,
    split_actions,
)
from cluster.launcher import LocalCluster
from cluster.netns import KernelFault, schedule_heal
from cluster.process import child_environment
from cluster.render import faults_table
from cluster.state import NodeState

__all__ = ["chaos", "fault"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _install_options(f: _F) -> _F:
    f = click.option(
        "--kernel", is_flag=True,
        help="In the kernel (nftables, link down) of a --hosts cluster, instead of the nodes' transport.",
    )(f)  # fmt: skip
    f = click.option("--duration", type=DURATION, default=None, help="Heal by itself after this long (`30s`).")(f)
    f = click.option(
        "--actions", default=None, help="Only requests of these actions (`internal:admin/tasks/ban,*[n]`)."
    )(f)
    return home_option(f)


def _shape_options(f: _F) -> _F:
    f = click.option(
        "--kind", type=click.Choice(["blackhole", "disconnect"]), default="blackhole", show_default=True,
        help="blackhole: requests hang until their deadline; disconnect: they fail at once.",
    )(f)  # fmt: skip
    return _install_options(f)


def _link_options(f: _F) -> _F:
    f = click.option("--both", is_flag=True, help="Also the reverse direction, TO → FROM.")(f)
    return _install_options(f)


def _install(
    verb: str,
    what: str,
    links: Sequence[Link],
    options: FaultOptions,
    cluster: LocalCluster,
    kernel: bool = False,
    isolated: str | None = None,
) -> None:
    if kernel:
        _install_kernel(verb, what, links, options, cluster, isolated)
        return
    records = cluster.nodes
    group = new_group_id(verb)
    try:
        bodies = fault_bodies(links, options, {r.name: r.transport_address for r in records}, group)
    except ValueError as e:
        raise FaultError(str(e)) from None
    answers = install_faults(records, bodies)
    installed = [a for a in answers if a.ok]
    lifetime = "until healed" if options.duration_ms is None else f"for {options.duration_ms / 1000:g}s"
    rules = sum(len(a.ids) for a in answers)
    click.echo(f"fault {group}: {what} {lifetime}; {_count(rules, 'rule')} on {_count(len(installed), 'node')}")
    failed = [a for a in answers if not a.ok]
    if failed:
        raise FaultError("not installed on " + "; ".join(f"{a.name} ({a.error})" for a in failed))


def _install_kernel(
    verb: str, what: str, links: Sequence[Link], options: FaultOptions, cluster: LocalCluster, isolated: str | None
) -> None:
    """The fault as kernel rules in the sending nodes' namespaces (`cluster.netns`): a black hole drops packets, a
    disconnect resets connections, an isolated node with `--kind disconnect` has its link set down."""
    network = cluster.network
    if network is None:
        raise FaultError("--kernel needs a cluster started with `simcluster up --hosts`")
    if options.kind not in ("blackhole", "disconnect"):
        raise FaultError(f"{options.kind} faults are injected in the nodes' transport only; leave out --kernel")
    if options.actions:
        raise FaultError("the kernel sees packets, not actions: --actions works without --kernel only")
    group = new_group_id(verb)
    expires = None if options.duration_ms is None else time.time() + options.duration_ms / 1000
    if isolated is not None and options.kind == "disconnect":
        faults = [KernelFault(group, "link-down", isolated, None, expires)]
    else:
        faults = [KernelFault(group, options.kind, link.source, link.target, expires) for link in links]
    network.with_faults([*network.faults, *faults])
    if expires is not None and faults[0].kind == "link-down":
        schedule_heal(network.home, group, expires, child_environment())
    lifetime = "until healed" if options.duration_ms is None else f"for {options.duration_ms / 1000:g}s"
    spaces = len({f.source for f in faults})
    click.echo(
        f"fault {group}: {what} {lifetime}; {_count(len(faults), 'kernel rule')} in {_count(spaces, 'namespace')}"
    )


def _options(kind: str, actions: str | None, duration: int | None, **fields: object) -> FaultOptions:
    if duration is not None and duration <= 0:
        raise click.BadParameter("must be more than 0ms", param_hint="--duration")
    return FaultOptions(kind=kind, actions=split_actions(actions), duration_ms=duration, **fields)  # type: ignore[arg-type]


@click.group()
def fault() -> None:
    """Disrupt the network between nodes: partitions, black holes, delays, drops; list and heal them."""


@fault.command("isolate", short_help="Cut one node off from all the others.")
@click.argument("name")
@_shape_options
def fault_isolate(name: str, home: Path, actions: str | None, duration: int | None, kernel: bool, kind: str) -> None:
    """Cut node NAME off from every other node, both ways (Jepsen `:one`)."""
    cluster = LocalCluster.attach(home)
    links = isolate(name, cluster.names)
    options = _options(kind, actions, duration)
    _install("isolate", f"isolate {name} ({kind})", links, options, cluster, kernel, isolated=name)


@fault.command("partition", short_help="Split the cluster into sides that cannot talk to each other.")
@click.argument("sides", nargs=-1, required=True)
@_shape_options
def fault_partition(
    sides: tuple[str, ...], home: Path, actions: str | None, duration: int | None, kernel: bool, kind: str
) -> None:
    """Split the cluster into SIDES (`node-1 node-2,node-3`); nodes named on no side form one more side."""
    cluster = LocalCluster.attach(home)
    names = cluster.names
    parsed = [parse_side(side, names) for side in sides]
    links = partition(parsed, names)
    rest = [n for n in names if all(n not in side for side in parsed)]
    shown = describe_sides([*parsed, *([rest] if rest else [])])
    _install("partition", f"partition {shown} ({kind})", links, _options(kind, actions, duration), cluster, kernel)


@fault.command("bridge", short_help="Two sides that only one node connects.")
@click.argument("side_a")
@click.argument("name")
@click.argument("side_b")
@_shape_options
def fault_bridge(
    side_a: str,
    name: str,
    side_b: str,
    home: Path,
    actions: str | None,
    duration: int | None,
    kernel: bool,
    kind: str,
) -> None:
    """Cut SIDE_A from SIDE_B; node NAME stays connected to both (Jepsen `bridge`, ES `Bridge`)."""
    cluster = LocalCluster.attach(home)
    names = cluster.names
    a, b = parse_side(side_a, names), parse_side(side_b, names)
    links = bridge(a, name, b, names)
    what = f"bridge {','.join(a)} | {name} | {','.join(b)} ({kind})"
    _install("bridge", what, links, _options(kind, actions, duration), cluster, kernel)


@fault.command("delay", short_help="Slow down the requests of one link.")
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="TO")
@click.argument("delay", type=DURATION)
@click.option("--jitter", type=DURATION, default=0, help="Each request waits DELAY ± JITTER (uniform).")
@_link_options
def fault_delay(
    source: str,
    target: str,
    delay: int,
    jitter: int,
    home: Path,
    actions: str | None,
    duration: int | None,
    kernel: bool,
    both: bool,
) -> None:
    """Delay every request from FROM to TO by DELAY (`200ms`), ± --jitter (toxiproxy `latency`)."""
    if delay <= 0 and jitter <= 0:
        raise click.BadParameter("must be more than 0ms", param_hint="DELAY")
    cluster = LocalCluster.attach(home)
    links = link(source, target, cluster.names, both=both)
    options = _options("delay", actions, duration, delay_ms=delay, jitter_ms=jitter)
    what = f"delay {_arrow(source, target, both)} {delay}ms ± {jitter}ms"
    _install("delay", what, links, options, cluster, kernel)


@fault.command("drop", short_help="Drop requests of one link with a probability.")
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="TO")
@click.argument("probability", type=click.FloatRange(0.0, 1.0))
@_link_options
def fault_drop(
    source: str,
    target: str,
    probability: float,
    home: Path,
    actions: str | None,
    duration: int | None,
    kernel: bool,
    both: bool,
) -> None:
    """Drop each request from FROM to TO with PROBABILITY (0.0-1.0); a dropped request hangs until its deadline."""
    cluster = LocalCluster.attach(home)
    links = link(source, target, cluster.names, both=both)
    options = _options("drop", actions, duration, probability=probability)
    _install("drop", f"drop {_arrow(source, target, both)} p={probability}", links, options, cluster, kernel)


@fault.command("blackhole", short_help="Requests of one link hang until their deadline.")
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="TO")
@_link_options
def fault_blackhole(
    source: str, target: str, home: Path, actions: str | None, duration: int | None, kernel: bool, both: bool
) -> None:
    """Black-hole requests from FROM to TO: no answer, they time out at their deadline (ES `NetworkUnresponsive`)."""
    cluster = LocalCluster.attach(home)
    links = link(source, target, cluster.names, both=both)
    options = _options("blackhole", actions, duration)
    _install("blackhole", f"blackhole {_arrow(source, target, both)}", links, options, cluster, kernel)


@fault.command("disconnect", short_help="Requests of one link fail at once.")
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="TO")
@_link_options
def fault_disconnect(
    source: str, target: str, home: Path, actions: str | None, duration: int | None, kernel: bool, both: bool
) -> None:
    """Disconnect FROM from TO: requests fail at once, as on a refused connection (ES `NetworkDisconnect`)."""
    cluster = LocalCluster.attach(home)
    links = link(source, target, cluster.names, both=both)
    options = _options("disconnect", actions, duration)
    _install("disconnect", f"disconnect {_arrow(source, target, both)}", links, options, cluster, kernel)


@fault.command("list", short_help="List the faults in force on every node.")
@home_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document instead of a table.")
def fault_list(home: Path, as_json: bool) -> None:
    """List the live fault rules of every node (expired ones have gone by themselves)."""
    cluster = LocalCluster.attach(home)
    answers = list_faults(cluster.nodes)
    now = time.time()
    kernel = [f for f in (cluster.network.faults if cluster.network is not None else ()) if f.live(now)]
    if as_json:
        document = {a.name: {"faults": list(a.faults)} if a.ok else {"error": a.error} for a in answers}
        click.echo(json.dumps({"nodes": document, "kernel": [dataclasses.asdict(f) for f in kernel]}, indent=2))
        return
    click.echo(faults_table([(a.name, a.faults) for a in answers if a.ok]))
    for f in kernel:
        left = "until healed" if f.expires is None else f"{f.expires - now:.0f}s left"
        target = f" -> {f.target}" if f.target is not None else ""
        click.echo(f"kernel {f.id}: {f.kind} {f.source}{target} ({left})")
    for answer in answers:
        if answer.error == "paused":
            click.echo(f"{answer.name}: paused, so its faults cannot be listed", err=True)
        elif answer.error is not None and answer.error != "down":
            click.echo(f"{answer.name}: {answer.error}", err=True)


@fault.command("heal", short_help="Remove every fault (or one).")
@click.argument("fault_id", required=False, metavar="[FAULT]")
@home_option
def fault_heal(fault_id: str | None, home: Path) -> None:
    """Remove every fault rule from every node, or only those of FAULT (a fault id from `fault list`)."""
    cluster = LocalCluster.attach(home)
    records = cluster.nodes
    network = cluster.network
    if network is not None and network.faults:
        kept = [f for f in network.faults if fault_id is not None and f.id != fault_id]
        healed = len(network.faults) - len(kept)
        network.with_faults(kept)
        click.echo(f"kernel: healed {_count(healed, 'rule')}")
    answers = heal_faults(records) if fault_id is None else remove_faults(records, fault_id)
    for answer in answers:
        click.echo(f"{answer.name}: {_healed_text(answer)}")
    stuck = [a for a in answers if a.error is not None and a.error != "down"]
    if stuck:
        names = ", ".join(a.name for a in stuck)
        raise FaultError(f"could not heal {names}; resume it (`simcluster node resume`) and heal again")


def _healed_text(answer: NodeAnswer) -> str:
    if answer.error == "down":
        return "down (a node that is down has no faults)"
    if answer.error is not None:
        return f"not healed: {answer.error}"
    count = len(answer.ids)
    return f"healed {count} fault rule{'' if count == 1 else 's'}" if count else "no faults"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _arrow(source: str, target: str, both: bool) -> str:
    return f"{source} {'<->' if both else '->'} {target}"


@click.command(short_help="Apply seeded random faults for a while, then heal and wait for the cluster.")
@home_option
@click.option("--seed", type=int, default=None, help="Seed of the schedule (default: random, printed).")
@click.option("--duration", type=DURATION, default="60s", show_default=True, help="How long to apply faults.")
@click.option("--interval", type=DURATION, default="10s", show_default=True, help="Mean time between faults.")
@click.option(
    "--events", default="kill,pause,partition,delay", show_default=True,
    help=f"Comma-separated kinds among {','.join(EVENT_KINDS)}.",
)  # fmt: skip
@click.option("--journal", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="JSON-lines journal.  [default: HOME/chaos/<time>-seed-<seed>.jsonl]")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Print the schedule the seed gives, and do nothing.")
@click.option("--form-timeout", type=DURATION, default="60s", show_default=True, help="Time to heal at the end.")
def chaos(
    home: Path,
    seed: int | None,
    duration: int,
    interval: int,
    events: str,
    journal: Path | None,
    dry_run: bool,
    form_timeout: int,
) -> None:
    """Apply random faults within bounds (never more than a minority of nodes out), journal them, heal at the end.

    The same --seed on the same cluster gives the same schedule. Ctrl-C stops early and still heals.
    """
    try:
        kinds = check_event_kinds([k.strip() for k in events.split(",") if k.strip()])
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--events") from None
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    cluster = LocalCluster.attach(home)
    schedule = plan_chaos(seed, cluster.names, duration=duration / 1000, interval=interval / 1000, kinds=kinds)
    click.echo(f"chaos run with seed {seed}: {len(schedule)} events over {duration / 1000:g}s")
    if dry_run:
        for event in schedule:
            click.echo(f"+{event.at:6.1f}s #{event.seq} {event.describe()} for {event.duration:.1f}s")
        return
    not_up = [n for n in cluster.status().nodes if n.state is not NodeState.UP]
    if not_up:
        raise FaultError(f"{not_up[0].name} is {not_up[0].state}: a chaos run starts from a whole cluster")
    path = journal if journal is not None else default_journal_path(cluster.home.root, seed)
    click.echo(f"journal: {path}")
    settings = {"duration": duration / 1000, "interval": interval / 1000, "events": list(kinds)}
    runner = ChaosRunner(
        cluster, schedule, path, seed=seed, settings=settings, echo=click.echo, form_timeout=form_timeout / 1000
    )
    outcome = runner.run()
    for term, masters in sorted(outcome.split_brain.items()):
        click.echo(f"split brain: term {term} had masters {', '.join(sorted(masters))}", err=True)
    if not outcome.ok:
        raise click.ClickException(
            "the chaos run was interrupted" if outcome.interrupted
            else "the cluster did not recover" if not outcome.formed
            else "the nodes elected two masters in one term (see the journal)"
        )  # fmt: skip
    click.echo(f"done: {outcome.applied} events applied, {len(outcome.errors)} errors; journal {path}")
