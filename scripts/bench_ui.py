"""Benchmark: the live view (`/_sim/ui/`) with many nodes and many tasks, in Debian's headless chromium.

Usage: python scripts/bench_ui.py [--nodes 20] [--tasks 10000] [--json FILE]

Starts a cluster, opens the page on node-1, then starts test tasks (`POST /_sim/tasks`, one child per node) until
about `--tasks` tasks run, and measures in the page:

* how long the page takes to follow every node, and to hold every task once the last one started;
* with all tasks running: the frame times of a few seconds of ticking running times, the time to re-flatten the
  tree and draw the rows in view, scrolling through the whole list, and a filter typed in;
* cancelling every test task at once (tens of thousands of events): how long until the page shows none, and how
  long the page's main thread was blocked meanwhile (the lateness of a 50 ms timer: what a user clicking would feel).

The node processes run at the lowest CPU priority (`nice 19`), so that on a small machine the page's numbers
measure the page, not the browser waiting for cores that twenty busy nodes hold; `--no-renice` leaves them be.

Prints a markdown table and, with `--json`, writes the numbers. A benchmark, not a test: numbers depend on the
machine (the nodes and the browser share its cores).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cluster.launcher import LocalCluster  # noqa: E402
from cluster.rest_client import request_json  # noqa: E402
from tests.support.browser import CHROMIUM_ARGS, chromium_executable, missing_browser_reason  # noqa: E402

TEST = "cluster:admin/tasks/test"
DEADLINE_S = 600.0
CANCEL_WAIT_S = 120.0
# What a user would feel: the browser's own Event Timing of every click (input delay, handlers, the next paint;
# reported from 16 ms, as a click that redraws anything waits for a frame), the slowest being what the Interaction
# to Next Paint of web vitals takes. The benchmark clicks "expand all" (which re-flattens the tree) while busy.
INTERACTION_PROBE = """
window.__slowClicks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.name === 'click') window.__slowClicks.push(e.duration);
}).observe({type: 'event', durationThreshold: 16});
"""
FRAME_PROBE = """
(seconds) => new Promise((resolve) => {
  const deltas = [];
  let last = performance.now();
  const end = last + seconds * 1000;
  const step = (now) => {
    deltas.push(now - last);
    last = now;
    if (now < end) requestAnimationFrame(step); else resolve(deltas);
  };
  requestAnimationFrame(step);
})
"""


def poll(condition: Callable[[], bool], what: str | Callable[[], str], interval: float = 0.05) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > DEADLINE_S:
            raise SystemExit(f"gave up after {DEADLINE_S:g}s waiting for {what if isinstance(what, str) else what()}")
        time.sleep(interval)
    return time.monotonic() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def start_tasks(cluster: LocalCluster, total: int, nodes: int) -> None:
    """Starts test trees (a root and one child per node) on every node in turn until about `total` tasks run."""
    addresses = [r.http_address for r in cluster.nodes if r.http_address]
    trees = max(1, round(total / (nodes + 1)))
    # Children check for cancellation every 2 s: ten thousand tasks waking every 100 ms would busy the machine.
    path = "/_sim/tasks?wait_for_completion=false&duration=-1&check_interval=2s"

    def start(i: int) -> None:
        answer = request_json("POST", addresses[i % len(addresses)], path, None, 30.0)
        if answer is None or answer.status != 200:
            raise SystemExit(f"POST /_sim/tasks failed: {answer}")

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(start, range(trees)))


def browser_cpu_seconds() -> float:
    """CPU time (user + system) used so far by every chromium process started from this one.

    Unlike the wall-clock numbers, CPU time does not grow when other processes hold the cores: on a busy shared
    machine it is the page's real cost.
    """
    children: dict[int, list[int]] = {}
    comm: dict[int, str] = {}
    times: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        comm[pid] = name
        times[pid] = (int(fields[11]) + int(fields[12])) / ticks
    total, stack = 0.0, [os.getpid()]
    while stack:
        pid = stack.pop()
        if "chrom" in comm.get(pid, ""):
            total += times[pid]
        stack.extend(children.get(pid, []))
    return total


def main_thread_seconds(cdp: Any) -> dict[str, float]:
    """Chrome's own counters of the page's main-thread work (seconds): scripts, style, layout, all tasks."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {k: metrics[k] for k in ("ScriptDuration", "RecalcStyleDuration", "LayoutDuration", "TaskDuration")}


def spent_ms(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k.removesuffix("Duration").lower(): round((after[k] - before[k]) * 1000, 1) for k in before}


def clicking(page: Any, condition: Callable[[], bool]) -> Callable[[], bool]:
    """`condition`, with a click on "expand all" before each check: an interaction while the page is busy."""

    def check() -> bool:
        page.click("#expand-all")
        return condition()

    return check


def interactions(page: Any) -> dict[str, Any]:
    """The clicks since the last call: how many, how many took 16 ms or more to the next paint, the slowest."""
    measured = page.evaluate(
        """() => {
          const slow = window.__slowClicks.splice(0);
          const clicks = performance.eventCounts.get('click') - (window.__clicksSeen || 0);
          window.__clicksSeen = performance.eventCounts.get('click');
          return {clicks, slow: slow.length, max_ms: slow.length ? Math.max(...slow) : 0};
        }"""
    )
    return dict(measured)


def measure_steady(page: Any, cdp: Any) -> dict[str, Any]:
    """Five seconds with every task running (running times ticking), then what drawing the tree costs."""
    before = main_thread_seconds(cdp)
    cpu = browser_cpu_seconds()
    deltas = page.evaluate(FRAME_PROBE, 5)
    measured: dict[str, Any] = {
        "browser_cpu_steady_5s_s": round(browser_cpu_seconds() - cpu, 2),
        "main_thread_steady_5s_ms": spent_ms(before, main_thread_seconds(cdp)),
        "steady_frames": {
            "count": len(deltas),
            "p50_ms": round(percentile(deltas, 50), 1),
            "p99_ms": round(percentile(deltas, 99), 1),
            "max_ms": round(max(deltas), 1),
        },
    }
    stats = page_stats(page)
    measured["tree_flatten_ms"] = round(stats["flattenMs"], 1)
    measured["rows_render_ms"] = round(stats["renderMs"], 1)
    measured["rows_in_tree"] = stats["rows"]
    measured["dom_elements"] = page.evaluate("document.getElementsByTagName('*').length")
    return measured


def page_stats(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("window.__simclusterUi.stats"))


def test_tasks_in_page(page: Any) -> int:
    return int(
        page.evaluate(f"[...window.__simclusterUi.tasks.values()].filter(t => t.action.startsWith('{TEST}')).length")
    )


def renice(cluster: LocalCluster) -> None:
    for record in cluster.nodes:
        if record.pid is not None:
            os.setpriority(os.PRIO_PROCESS, record.pid, 19)


def test_tasks_in_cluster(cluster: LocalCluster) -> int:
    path = f"/_tasks?actions={TEST}*&group_by=none&filter_path=tasks.id"
    answer = request_json("GET", cluster.node("node-1").http_address or "", path, None, 60.0)
    if answer is None or answer.status != 200:
        raise SystemExit(f"GET /_tasks failed: {answer}")
    return len((answer.body or {}).get("tasks", []))


def run(nodes: int, tasks: int, nice: bool) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    results: dict[str, Any] = {"nodes": nodes, "tasks_requested": tasks}
    with tempfile.TemporaryDirectory() as home:
        cluster = LocalCluster(home, nodes, http_port=0, transport_port=0, start_timeout=120.0)
        cluster.start()
        try:
            started = time.monotonic()
            cluster.wait_until_formed(180.0)
            results["cluster_formed_s"] = round(time.monotonic() - started, 1)
            results["nodes_reniced"] = nice
            if nice:
                renice(cluster)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium_executable(), args=list(CHROMIUM_ARGS))
                try:
                    page = browser.new_page(viewport={"width": 1440, "height": 900})
                    page.add_init_script(INTERACTION_PROBE)
                    cdp = page.context.new_cdp_session(page)
                    cdp.send("Performance.enable")
                    opened = time.monotonic()
                    page.goto(f"{cluster.node('node-1').http_url}/_sim/ui/")
                    up = f"document.querySelectorAll('.node[data-state=\"up\"]').length === {nodes}"
                    page.wait_for_function(up, timeout=60_000)
                    results["page_follows_every_node_s"] = round(time.monotonic() - opened, 2)

                    posted = time.monotonic()
                    cpu = browser_cpu_seconds()
                    before = main_thread_seconds(cdp)
                    start_tasks(cluster, tasks, nodes)
                    results["posting_tasks_s"] = round(time.monotonic() - posted, 1)
                    # What the cluster lists (a child whose request failed on a busy machine is not there), asked
                    # again at every check: children may still be registering.
                    counts: dict[str, int] = {}

                    def page_holds_them() -> bool:
                        counts.update(cluster=test_tasks_in_cluster(cluster), page=test_tasks_in_page(page))
                        return counts["page"] >= counts["cluster"]

                    poll(page_holds_them, lambda: f"the page to hold the cluster's tasks (last seen: {counts})", 1.0)
                    results["tasks_started"] = counts["cluster"]
                    results["page_holds_every_task_s_after_last_post"] = round(
                        time.monotonic() - posted - results["posting_tasks_s"], 2
                    )
                    results["main_thread_while_starting_ms"] = spent_ms(before, main_thread_seconds(cdp))
                    results["browser_cpu_while_starting_s"] = round(browser_cpu_seconds() - cpu, 2)
                    results["load_average_1m"] = [round(os.getloadavg()[0], 1)]
                    results["while_starting"] = page_stats(page)

                    results.update(measure_steady(page, cdp))

                    scroll_times = page.evaluate(
                        """async () => {
                          const viewport = document.querySelector('#tasks-viewport');
                          const times = [];
                          for (let i = 0; i <= 50; i++) {
                            const t0 = performance.now();
                            viewport.scrollTop = (viewport.scrollHeight - viewport.clientHeight) * i / 50;
                            await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
                            times.push(performance.now() - t0);
                          }
                          return times;
                        }"""
                    )
                    results["scroll_step_to_painted_ms"] = {
                        "p50": round(percentile(scroll_times, 50), 1),
                        "max": round(max(scroll_times), 1),
                    }
                    page.fill("#f-action", "*test[n]")
                    page.wait_for_timeout(500)
                    results["filter_flatten_ms"] = round(page_stats(page)["flattenMs"], 1)
                    page.fill("#f-action", "")

                    interactions(page)
                    before = main_thread_seconds(cdp)
                    results["before_cancel_stats"] = page_stats(page)
                    cpu = browser_cpu_seconds()
                    cancelling = time.monotonic()
                    address = cluster.node("node-1").http_address or ""
                    answer = request_json("POST", address, f"/_tasks/_cancel?actions={TEST}", None, 120.0)
                    if answer is None or answer.status != 200:
                        raise SystemExit(f"cancel failed: {answer}")
                    results["cancel_request_answered_s"] = round(time.monotonic() - cancelling, 2)
                    left = {"cluster": -1}

                    def cluster_done() -> bool:
                        left["cluster"] = test_tasks_in_cluster(cluster)
                        return left["cluster"] == 0 or time.monotonic() - cancelling > CANCEL_WAIT_S

                    poll(clicking(page, cluster_done), "the cancellation to run through the cluster", 0.3)
                    results["cancel_all_until_cluster_has_none_s"] = round(time.monotonic() - cancelling, 2)
                    # A child whose ban was lost (a master change on an overloaded machine) runs on: the page must
                    # show what the cluster lists, no more.
                    results["tasks_left_in_cluster"] = left["cluster"]
                    shows_the_rest = clicking(page, lambda: test_tasks_in_page(page) == left["cluster"])
                    poll(shows_the_rest, "the page to show what the cluster still lists", 0.2)
                    results["cancel_all_until_page_shows_none_s"] = round(time.monotonic() - cancelling, 2)
                    results["browser_cpu_while_cancelling_s"] = round(browser_cpu_seconds() - cpu, 2)
                    results["load_average_1m"].append(round(os.getloadavg()[0], 1))
                    results["main_thread_while_cancelling_ms"] = spent_ms(before, main_thread_seconds(cdp))
                    results["clicks_while_cancelling"] = interactions(page)
                    results["final_stats"] = page_stats(page)
                finally:
                    browser.close()
        finally:
            cluster.stop()
    return results


def cancelled_text(results: dict[str, Any]) -> str:
    left = results["tasks_left_in_cluster"]
    seconds = results["cancel_all_until_cluster_has_none_s"]
    return f"{seconds} s" if left == 0 else f"{left} tasks still running after {seconds} s (their bans were lost)"


def spent_in_page(results: dict[str, Any]) -> str:
    before, after = results["before_cancel_stats"], results["final_stats"]
    parts = [round(after[k] - before[k]) for k in ("flattenTotalMs", "rowsTotalMs", "panelsTotalMs")]
    return " / ".join(str(p) for p in parts) + " ms"


def work(spent: dict[str, float]) -> str:
    return f"{spent['script']} / {spent['recalcstyle']} / {spent['layout']} / {spent['task']} ms"


def page_cost_rows(results: dict[str, Any], starting: str) -> list[tuple[str, str]]:
    """What both live-view benchmarks measure of the page: its work while tasks start and while they run."""
    return [
        (f"page main-thread work while {starting} (script / style / layout / all)", work(results["main_thread_while_starting_ms"])),
        (f"browser CPU time while {starting}", f"{results['browser_cpu_while_starting_s']} s"),
        ("frames with every task running (p50 / p99 / max)", frames_text(results["steady_frames"])),
        ("page main-thread work in 5 s of ticking (script / style / layout / all)", work(results["main_thread_steady_5s_ms"])),
        ("browser CPU time in 5 s of ticking", f"{results['browser_cpu_steady_5s_s']} s"),
        ("re-flatten the whole tree / draw the rows in view", f"{results['tree_flatten_ms']} / {results['rows_render_ms']} ms"),
        ("elements in the page", f"{results['dom_elements']:,}"),
    ]  # fmt: skip


def cancelling_rows(results: dict[str, Any]) -> list[tuple[str, str]]:
    clicks = results["clicks_while_cancelling"]
    return [
        ("slowest click while cancelling, to the next paint", f"{clicks['max_ms']} ms (of {clicks['clicks']})"),
        ("page main-thread work while cancelling (script / style / layout / all)", work(results["main_thread_while_cancelling_ms"])),
        ("browser CPU time while cancelling", f"{results['browser_cpu_while_cancelling_s']} s"),
    ]  # fmt: skip


def markdown(results: dict[str, Any]) -> str:
    rows = [
        ("nodes / test tasks", f"{results['nodes']} / {results['tasks_started']:,}"),
        ("page follows every node (open → all up)", f"{results['page_follows_every_node_s']} s"),
        ("page holds every task the cluster lists, after the last start", f"{results['page_holds_every_task_s_after_last_post']} s"),
        *page_cost_rows(results, "tasks start"),
        ("while cancelling: flatten / rows / panels, in all", spent_in_page(results)),
        ("scroll step to painted (p50 / max)", f"{results['scroll_step_to_painted_ms']['p50']} / {results['scroll_step_to_painted_ms']['max']} ms"),
        ("filter `*test[n]` re-flatten", f"{results['filter_flatten_ms']} ms"),
        ("cancel every tree → the cluster lists none (`GET /_tasks`, polled)", cancelled_text(results)),
        ("cancel every tree → the page shows what the cluster lists", f"{results['cancel_all_until_page_shows_none_s']} s"),
        *cancelling_rows(results),
        ("machine load average (1 min) after the starts / after the cancel", " / ".join(map(str, results["load_average_1m"]))),
    ]  # fmt: skip
    return table(rows)


def table(rows: list[tuple[str, str]]) -> str:
    lines = ["| measure | value |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def frames_text(frames: dict[str, float]) -> str:
    return f"{frames['p50_ms']} / {frames['p99_ms']} / {frames['max_ms']} ms"


def bench_main(
    description: str,
    run_with: Callable[[argparse.Namespace], dict[str, Any]],
    markdown_of: Callable[[dict[str, Any]], str],
    extra: Callable[[argparse.ArgumentParser], object] = lambda parser: None,
) -> None:
    """The command line both live-view benchmarks share: `--nodes`, `--tasks`, `--json`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--json", type=Path, default=None)
    extra(parser)
    args = parser.parse_args()
    reason = missing_browser_reason()
    if reason is not None:
        raise SystemExit(reason)
    results = run_with(args)
    print(markdown_of(results))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def main() -> None:
    bench_main(
        __doc__.splitlines()[0],
        lambda args: run(args.nodes, args.tasks, not args.no_renice),
        markdown,
        lambda parser: parser.add_argument(
            "--no-renice", action="store_true", help="Leave the node processes at normal priority."
        ),
    )


if __name__ == "__main__":
    main()
