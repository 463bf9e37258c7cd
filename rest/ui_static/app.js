// simcluster live view. Plain JS, no dependencies, nothing fetched from elsewhere.
//
// Every node streams its own events (GET /_sim/events, Server-Sent Events): a snapshot first (the node, the cluster
// as it applied it, its tasks, its fault rules, its recent history), then batches of events. The page subscribes to
// every node it learns of, joins the streams into one model, and redraws at most once per animation frame: the task
// tree is flattened only when its shape changed (at most ten times a second) and only the rows in view exist in the
// DOM, so ten thousand tasks cost a few dozen elements. Nothing is polled: running times tick from the start times.
//
// Actions go through the nodes' own APIs (POST /_tasks/{id}/_cancel on this page's node, POST /_sim/tasks and
// /_sim/faults on any node); killing, pausing, resuming and starting node processes go through the control endpoint
// of `simcluster ui` when the page was opened by it (#control=...&token=... in the URL).
'use strict';

(() => {
  const ROW_H = 26;
  const OVERSCAN = 12;
  const ENDED_LINGER_MS = 1500; // an ended task stays greyed out this long, then leaves the tree
  const SILENT_MS = 3000; // no heartbeat for this long: the node is paused (or too busy to answer)
  const TREE_INTERVAL_MS = 100; // the tree is re-flattened at most this often
  const ROWS_INTERVAL_MS = 50; // rows in view are redrawn for new data at most this often
  const PANEL_INTERVAL_MS = 250; // node cards and timeline at most this often
  const TIMELINE_MAX = 2000;
  const TIMELINE_SHOWN = 200;
  const UI_OPAQUE_ID = 'simcluster-ui';
  const NOISE = /^(internal:|cluster:monitor\/)/;
  const NOISE_INTERNAL = /^internal:/;

  const $ = (selector) => document.querySelector(selector);
  // Writing a value an element already shows still invalidates its layout: write only what changed.
  const setText = (element, text) => {
    if (element.textContent !== text) element.textContent = text;
  };
  const setTitle = (element, text) => {
    if (element.title !== text) element.title = text;
  };
  const make = (tag, className, text) => {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  };

  // ---- the model ------------------------------------------------------------------------------------------------

  const nodes = new Map(); // node id -> node
  const streams = new Map(); // http address -> stream
  const tasks = new Map(); // "nodeId:id" -> task
  const children = new Map(); // parent "nodeId:id" -> Set of child keys
  const collapsed = new Set();
  const timeline = []; // entries, oldest first
  const timelineByKey = new Map();
  const control = parseControl();
  const stats = {
    messages: 0, events: 0, applyMs: 0, maxApplyMs: 0, frames: 0, flattenMs: 0, maxFlattenMs: 0,
    renderMs: 0, maxFrameMs: 0, rows: 0, snapshots: 0, flattenTotalMs: 0, rowsTotalMs: 0, panelsTotalMs: 0,
  };
  window.__simclusterUi = { stats, tasks, nodes };

  let cluster = null; // the freshest cluster view any node sent
  let rows = []; // the flattened tree
  let filters = { action: '', node: '', opaque: '', monitor: false };
  const dirty = { tree: true, rows: true, nodes: true, shards: true, header: true, timeline: true };
  const last = { tree: 0, rows: 0, nodes: 0 };
  let scrolled = false;
  let frameScheduled = false;
  let laterTimer = null;

  function parseControl() {
    const params = new URLSearchParams(location.hash.slice(1));
    const url = params.get('control');
    const token = params.get('token');
    return url && token ? { url, token, ok: null, statusPending: false, lastStatus: 0 } : null;
  }

  function nodeOf(id) {
    let node = nodes.get(id);
    if (!node) {
      node = {
        id, name: id, ephemeral: null, http: null, transport: null, roles: [], attributes: {},
        view: null, faults: new Map(), process: null, taskCount: 0, lastSeq: 0, busy: null, everSeen: false, card: null,
      };
      nodes.set(id, node);
    }
    return node;
  }

  function nodeColor(node) {
    const match = /(\d+)$/.exec(node.name);
    let n = match ? Number(match[1]) : 0;
    if (!match) for (const c of node.id) n = (n * 31 + c.charCodeAt(0)) % 997;
    return `hsl(${Math.round((n * 137.508) % 360)} 70% 62%)`;
  }

  function streamOf(node) {
    for (const stream of streams.values()) if (stream.nodeId === node.id && stream.state !== 'closed') return stream;
    return null;
  }

  // What the node's own stream says wins; the launcher's view (`simcluster ui`) fills in for nodes never reached.
  function nodeState(node) {
    const stream = streamOf(node);
    if (stream && stream.state === 'open') return Date.now() - stream.lastHeard > SILENT_MS ? 'paused' : 'up';
    if (node.process === 'PAUSED') return 'paused';
    if (!stream || stream.state === 'error' || node.process === 'DOWN') return 'gone';
    return 'connecting';
  }

  function inCluster(node) {
    return !!cluster && cluster.nodes.some((n) => n.id === node.id);
  }

  // ---- streams --------------------------------------------------------------------------------------------------

  function connect(address, sameOrigin) {
    const existing = streams.get(address);
    if (existing && existing.state !== 'closed') return existing;
    const stream = { address, sameOrigin, nodeId: null, state: 'connecting', lastHeard: 0, everOpen: false, source: null };
    streams.set(address, stream);
    open(stream);
    return stream;
  }

  // The nodes' own traffic is left out at the source unless asked for: it is most of the events of a big cancel.
  function streamUrl(stream) {
    const query = filters.monitor ? '' : '?exclude_actions=internal:*';
    return `${stream.sameOrigin ? '' : `http://${stream.address}`}/_sim/events${query}`;
  }

  function reopenAll() {
    for (const stream of streams.values()) {
      if (stream.source) stream.source.close();
      if (stream.state !== 'closed') {
        stream.state = 'connecting';
        stream.everOpen = false; // asked for: no "stream is back" entry
        open(stream);
      }
    }
  }

  function open(stream) {
    const source = new EventSource(streamUrl(stream));
    stream.source = source;
    source.addEventListener('snapshot', (e) => measured(() => onSnapshot(stream, JSON.parse(e.data))));
    source.addEventListener('events', (e) => measured(() => onEvents(stream, JSON.parse(e.data))));
    source.addEventListener('heartbeat', () => heard(stream));
    source.addEventListener('overflow', () => note(`the stream of ${nameOfStream(stream)} fell behind; reconnecting`));
    source.onerror = () => {
      if (stream.state === 'open') lostStream(stream);
      stream.state = 'error';
      if (source.readyState === EventSource.CLOSED) setTimeout(() => stream.state !== 'closed' && open(stream), 2000);
      touchNodes();
    };
  }

  function close(stream) {
    stream.state = 'closed';
    if (stream.source) stream.source.close();
    streams.delete(stream.address);
  }

  function nameOfStream(stream) {
    const node = stream.nodeId && nodes.get(stream.nodeId);
    return node ? node.name : stream.address;
  }

  function heard(stream) {
    const wasSilent = Date.now() - stream.lastHeard > SILENT_MS;
    stream.lastHeard = Date.now();
    if (wasSilent) touchNodes();
  }

  function measured(apply) {
    const t0 = performance.now();
    apply();
    const spent = performance.now() - t0;
    stats.messages += 1;
    stats.applyMs += spent;
    stats.maxApplyMs = Math.max(stats.maxApplyMs, spent);
  }

  function lostStream(stream) {
    const node = stream.nodeId && nodes.get(stream.nodeId);
    addPageEntry(`lost the event stream of <b>${esc(nameOfStream(stream))}</b>`, true);
    if (node) {
      // A node whose stream broke is gone with its tasks: a process that died takes its registry with it.
      removeTasksOf(node.id);
      node.view = null;
      chooseCluster();
      refreshControlStatus();
    }
  }

  function onSnapshot(stream, snapshot) {
    stats.snapshots += 1;
    const info = snapshot.node;
    const node = nodeOf(info.id);
    const reopened = stream.everOpen;
    if (stream.nodeId && stream.nodeId !== info.id) removeTasksOf(stream.nodeId); // another node now on that port
    stream.nodeId = info.id;
    stream.state = 'open';
    stream.everOpen = true;
    stream.lastHeard = Date.now();
    if (node.ephemeral !== info.ephemeral_id) node.lastSeq = 0; // a new process numbers its events from 1
    Object.assign(node, {
      name: info.name, ephemeral: info.ephemeral_id, http: info.http_address, transport: info.transport_address,
      roles: info.roles, attributes: info.attributes, version: info.version, clockOffset: snapshot.time - Date.now(),
      everSeen: true,
    });
    for (const other of streams.values()) {
      if (other !== stream && other.nodeId === node.id && other.state !== 'open') close(other);
    }
    removeTasksOf(node.id);
    for (const task of snapshot.tasks) addTask(task);
    node.faults = new Map(snapshot.faults.map((rule) => [rule.id, rule]));
    for (const event of snapshot.recent) onTimelineEvent(node, event);
    if (reopened) addPageEntry(`event stream of <b>${esc(node.name)}</b> is back`);
    node.view = snapshot.cluster;
    chooseCluster();
    refreshControlStatus();
    touchAll();
  }

  function onEvents(stream, events) {
    heard(stream);
    const node = stream.nodeId && nodes.get(stream.nodeId);
    if (!node) return;
    stats.events += events.length;
    for (const event of events) {
      switch (event.kind) {
        case 'task_started':
          addTask(event.task);
          break;
        case 'task_cancelled':
          cancelTask(event);
          break;
        case 'task_finished':
          endTask(event);
          break;
        case 'cluster_state':
          node.view = event.cluster;
          chooseCluster();
          break;
        case 'fault_added':
          for (const rule of event.faults) node.faults.set(rule.id, rule);
          dirty.nodes = true;
          break;
        case 'fault_removed':
        case 'fault_healed':
        case 'fault_expired':
          for (const rule of event.faults) node.faults.delete(rule.id);
          dirty.nodes = true;
          break;
        default:
          break;
      }
      onTimelineEvent(node, event);
    }
    schedule();
  }

  // Several nodes report the same cluster: show the freshest state of a node that follows a master.
  function chooseCluster() {
    let best = null;
    for (const node of nodes.values()) {
      const view = node.view;
      if (!view) continue;
      const rank = [view.master_node_id ? 1 : 0, view.term, view.version];
      if (!best || compare(rank, best.rank) > 0) best = { view, rank };
    }
    const next = best ? best.view : null;
    if (next !== cluster) {
      cluster = next;
      if (cluster) {
        for (const info of cluster.nodes) learnNode(info);
      }
      dirty.shards = dirty.nodes = dirty.header = true;
      schedule();
    }
  }

  function compare(a, b) {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return 0;
  }

  function learnNode(info) {
    const node = nodeOf(info.id);
    if (!node.everSeen) {
      Object.assign(node, {
        name: info.name, http: info.http_address, transport: info.transport_address, roles: info.roles,
        attributes: info.attributes, ephemeral: node.ephemeral,
      });
    } else if (info.ephemeral_id !== node.ephemeral || info.http_address !== node.http) {
      node.http = info.http_address;
      node.transport = info.transport_address;
    }
    const stream = streamOf(node);
    if (!stream || (stream.state === 'error' && stream.address !== node.http)) {
      if (stream) close(stream);
      if (node.http) connect(node.http, false);
    }
  }

  // ---- tasks ----------------------------------------------------------------------------------------------------

  function keyOf(nodeId, id) {
    return `${nodeId}:${id}`;
  }

  function addTask(info) {
    const key = keyOf(info.node, info.id);
    if (tasks.has(key)) removeTask(key);
    const task = {
      key, node: info.node, id: info.id, type: info.type, action: info.action, description: info.description || '',
      start: info.start_time_in_millis, cancellable: info.cancellable, cancelled: info.cancelled,
      reason: info.cancel_reason, parent: info.parent_task_id, opaque: (info.headers || {})['X-Opaque-Id'] || '',
      ended: 0, outcome: null, flash: 0, noise: NOISE.test(info.action), rank: nodeRanks.get(info.node) ?? -1,
      depth: 0, kids: 0,
    };
    tasks.set(key, task);
    if (task.parent) {
      let set = children.get(task.parent);
      if (!set) children.set(task.parent, (set = new Set()));
      set.add(task);
    }
    nodeOf(task.node).taskCount += 1;
    dirty.header = dirty.nodes = true;
    if (shownByDefault(task)) dirty.tree = true;
  }

  function removeTask(key) {
    const task = tasks.get(key);
    if (!task) return;
    tasks.delete(key);
    if (task.parent) {
      const set = children.get(task.parent);
      if (set) {
        set.delete(task);
        if (set.size === 0) children.delete(task.parent);
      }
    }
    const node = nodes.get(task.node);
    if (node) node.taskCount -= 1;
    dirty.header = dirty.nodes = true;
    if (shownByDefault(task)) dirty.tree = true;
  }

  // The nodes' own short-lived traffic comes and goes many times a second; it only redraws the tree when shown.
  function shownByDefault(task) {
    return !task.noise || filters.monitor;
  }

  function removeTasksOf(nodeId) {
    for (const [key, task] of tasks) if (task.node === nodeId) removeTask(key);
  }

  function cancelTask(event) {
    const task = tasks.get(keyOf(event.node, event.id));
    if (!task) return;
    task.cancelled = true;
    task.reason = event.reason;
    task.flash = Date.now();
    if (shownByDefault(task)) dirty.rows = true;
  }

  // Ended tasks stay greyed out for a moment, oldest first in a queue (a head index: no O(n) shift).
  let endedQueue = [];
  let endedHead = 0;
  function endTask(event) {
    const task = tasks.get(keyOf(event.node, event.id));
    if (!task) return;
    if (!shownByDefault(task)) {
      removeTask(task.key); // hidden anyway: gone at once
      return;
    }
    task.ended = Date.now();
    task.outcome = event.outcome;
    task.error = event.error;
    endedQueue.push(task);
    dirty.rows = true;
  }

  function sweepEnded(now) {
    let removed = 0;
    while (endedHead < endedQueue.length && now - endedQueue[endedHead].ended >= ENDED_LINGER_MS) {
      const task = endedQueue[endedHead++];
      if (tasks.get(task.key) === task) {
        removeTask(task.key);
        removed += 1;
      }
    }
    if (endedHead > 1024 && endedHead * 2 > endedQueue.length) {
      endedQueue = endedQueue.slice(endedHead);
      endedHead = 0;
    }
    return removed;
  }

  function wildcard(pattern) {
    const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
    return new RegExp(`^${escaped}$`, 'i');
  }

  // What the user filters on; null without a filter. The nodes' own traffic is left out separately (`hideNoise`).
  function taskFilter() {
    const tests = [];
    if (filters.action) {
      const text = filters.action.trim();
      if (text.includes('*')) {
        const re = wildcard(text);
        tests.push((t) => re.test(t.action));
      } else {
        const lower = text.toLowerCase();
        tests.push((t) => t.action.toLowerCase().includes(lower));
      }
    }
    if (filters.node) tests.push((t) => nodes.get(t.node)?.name === filters.node);
    if (filters.opaque) {
      const lower = filters.opaque.trim().toLowerCase();
      tests.push((t) => t.opaque.toLowerCase().includes(lower));
    }
    return tests.length ? (t) => tests.every((test) => test(t)) : null;
  }

  // The tree across nodes, depth first: a task's children are the tasks naming it as parent, on whatever node.
  // With a filter, a matching task is shown with its ancestors, so it stays in its tree. Rows are the tasks
  // themselves (with `depth` and `kids` set), and the stack is reused: ten thousand tasks allocate next to nothing.
  const stackTasks = [];
  const stackDepths = [];
  function flatten() {
    rankNodes();
    const matches = taskFilter();
    const hideNoise = !filters.monitor;
    let visible = null;
    if (matches) {
      visible = new Set();
      for (const task of tasks.values()) {
        if (!matches(task)) continue;
        let current = task;
        while (current && !visible.has(current)) {
          visible.add(current);
          current = current.parent ? tasks.get(current.parent) : null;
        }
      }
    }
    const shown = (task) => (!visible || visible.has(task)) && !(hideNoise && task.noise);
    const roots = [];
    for (const task of tasks.values()) {
      if ((!task.parent || !tasks.has(task.parent)) && shown(task)) roots.push(task);
    }
    roots.sort((a, b) => b.start - a.start || compareKeys(a, b));
    const out = [];
    for (let i = roots.length - 1; i >= 0; i--) {
      stackTasks.push(roots[i]);
      stackDepths.push(0);
    }
    const list = [];
    while (stackTasks.length) {
      const task = stackTasks.pop();
      const depth = stackDepths.pop();
      const kids = children.get(task.key);
      task.depth = depth;
      task.kids = kids ? kids.size : 0;
      out.push(task);
      if (!kids || collapsed.has(task.key)) continue;
      list.length = 0;
      for (const child of kids) if (shown(child)) list.push(child);
      list.sort(compareKeys);
      for (let i = list.length - 1; i >= 0; i--) {
        stackTasks.push(list[i]);
        stackDepths.push(depth + 1);
      }
    }
    return out;
  }

  // Children sort by node name (node-2 before node-10), then id: names are ranked when nodes change, not compared.
  const byName = new Intl.Collator(undefined, { numeric: true }).compare;
  let nodeRanks = new Map();
  let rankedNames = '';
  function rankNodes() {
    const sorted = [...nodes.values()].sort((a, b) => byName(a.name, b.name));
    const names = sorted.map((n) => `${n.id}=${n.name}`).join(',');
    if (names === rankedNames) return;
    rankedNames = names;
    nodeRanks = new Map(sorted.map((n, i) => [n.id, i]));
    for (const task of tasks.values()) task.rank = nodeRanks.get(task.node) ?? -1;
  }

  function compareKeys(a, b) {
    return a.rank - b.rank || a.id - b.id;
  }

  // ---- drawing --------------------------------------------------------------------------------------------------

  function touchNodes() {
    dirty.nodes = dirty.header = true;
    schedule();
  }

  function touchAll() {
    for (const part of Object.keys(dirty)) dirty[part] = true;
    schedule();
  }

  function schedule() {
    if (frameScheduled) return;
    frameScheduled = true;
    requestAnimationFrame(frame);
  }

  // One timer for every "draw again in a moment": it fires at the earliest moment asked for.
  let laterAt = Infinity;
  function later(ms) {
    const at = Date.now() + Math.max(0, ms);
    if (laterTimer !== null && laterAt <= at) return;
    if (laterTimer !== null) clearTimeout(laterTimer);
    laterAt = at;
    laterTimer = setTimeout(() => {
      laterTimer = null;
      laterAt = Infinity;
      schedule();
    }, Math.max(0, ms));
  }

  function frame() {
    frameScheduled = false;
    const t0 = performance.now();
    const now = Date.now();
    if (sweepEnded(now)) dirty.tree = true;
    if (endedHead < endedQueue.length) later(endedQueue[endedHead].ended + ENDED_LINGER_MS - now);
    if (dirty.tree) {
      // At most ten times a second, and for a big tree about a tenth of the time, but never less than once a second
      // (one flatten slowed down by a machine that is busy elsewhere must not freeze the tree).
      const wait = Math.min(1000, Math.max(TREE_INTERVAL_MS, 10 * stats.flattenMs));
      if (t0 - last.tree >= wait) {
        const f0 = performance.now();
        rows = flatten();
        const spent = performance.now() - f0;
        stats.flattenMs = spent;
        stats.maxFlattenMs = Math.max(stats.maxFlattenMs, spent);
        stats.flattenTotalMs += spent;
        last.tree = t0;
        dirty.tree = false;
        dirty.rows = true;
        scrolled = true;
      } else {
        later(last.tree + wait - t0);
      }
    }
    if (dirty.rows) {
      // Scrolling redraws at once; changing data at most every ROWS_INTERVAL_MS.
      if (scrolled || t0 - last.rows >= ROWS_INTERVAL_MS) {
        const r0 = performance.now();
        renderRows();
        const spent = performance.now() - r0;
        stats.renderMs = spent;
        stats.rowsTotalMs += spent;
        dirty.rows = false;
        scrolled = false;
        last.rows = t0;
      } else {
        later(last.rows + ROWS_INTERVAL_MS - t0);
      }
    }
    if (dirty.shards) {
      renderShards();
      dirty.shards = false;
    }
    if (dirty.nodes || dirty.timeline || dirty.header) {
      if (t0 - last.nodes >= PANEL_INTERVAL_MS) {
        const p0 = performance.now();
        if (dirty.header) renderHeader();
        if (dirty.nodes) renderNodes();
        if (dirty.timeline) renderTimeline();
        dirty.nodes = dirty.timeline = dirty.header = false;
        last.nodes = t0;
        stats.panelsTotalMs += performance.now() - p0;
      } else {
        later(PANEL_INTERVAL_MS);
      }
    }
    const spent = performance.now() - t0;
    stats.frames += 1;
    stats.maxFrameMs = Math.max(stats.maxFrameMs, spent);
    stats.lastFrameMs = spent;
  }

  function renderHeader() {
    setText($('#cluster-name'), cluster ? cluster.cluster_name : 'no cluster state yet');
    const health = $('#health');
    const status = cluster ? (cluster.master_node_id ? cluster.health.status : 'red') : 'unknown';
    if (health.className !== `health ${status}`) health.className = `health ${status}`;
    setText(health, cluster && !cluster.master_node_id ? 'no master' : status);
    const master = cluster && cluster.nodes.find((n) => n.id === cluster.master_node_id);
    const parts = [];
    if (cluster) {
      parts.push(`${cluster.nodes.length} nodes`);
      parts.push(master ? `master ${master.name}` : 'no master');
      parts.push(`term ${cluster.term}, version ${cluster.version}`);
      const h = cluster.health;
      parts.push(`${h.active_shards} active shards${h.unassigned_shards ? `, ${h.unassigned_shards} unassigned` : ''}`);
    }
    setText($('#summary'), parts.join(' · '));
    const origin = originNode();
    const banner = $('#origin-banner');
    const live = sortedNodes().filter((n) => nodeState(n) === 'up' && n.http);
    banner.hidden = !origin || nodeState(origin) !== 'gone';
    if (!banner.hidden) {
      banner.innerHTML = `the node serving this page, <b>${esc(origin.name)}</b>, is gone: the view follows the other nodes, but cancelling a task needs this page's node.`
        + (live.length ? ` Open the view on <a href="http://${esc(live[0].http)}/_sim/ui/${esc(location.hash)}">${esc(live[0].name)}</a>.` : '');
    }
    const status2 = $('#control-status');
    if (!control) {
      setText(status2, 'node controls: run `simcluster ui`');
      setTitle(status2, 'kill, pause, resume and start need the launcher: open this page with `simcluster ui`');
    } else {
      setText(status2, control.ok === false ? 'node controls unreachable' : 'node controls on');
      setTitle(status2, control.url);
    }
  }

  function countLive() {
    let n = 0;
    for (const node of nodes.values()) if (nodeState(node) === 'up') n += 1;
    return n;
  }

  function sortedNodes() {
    return [...nodes.values()].filter((n) => n.everSeen || inCluster(n) || n.process).sort((a, b) => byName(a.name, b.name));
  }

  const nodeCards = new Map();
  function renderNodes() {
    const container = $('#nodes');
    const list = sortedNodes();
    const select = $('#f-node');
    const names = list.map((n) => n.name);
    if (select.options.length - 1 !== names.length || names.some((name, i) => select.options[i + 1].value !== name)) {
      const chosen = select.value;
      select.replaceChildren(new Option('every node', ''), ...names.map((name) => new Option(name, name)));
      select.value = names.includes(chosen) ? chosen : '';
    }
    const order = list.map((n) => n.id).join(',');
    const fragment = order === container.dataset.order ? null : document.createDocumentFragment();
    for (const node of list) {
      let card = nodeCards.get(node.id);
      if (!card) {
        card = buildCard(node);
        nodeCards.set(node.id, card);
      }
      fillCard(card, node);
      if (fragment) fragment.append(card);
    }
    if (fragment) {
      container.replaceChildren(fragment);
      container.dataset.order = order;
    }
  }

  const VERBS = ['kill', 'pause', 'resume', 'start', 'isolate'];
  function buildCard(node) {
    const card = make('div', 'node');
    card.parts = null;
    card.innerHTML = `
      <div class="name"><span class="dot"></span><span class="star" title="elected master">★</span>
        <span class="node-name"></span><span class="state"></span><span class="roles muted"></span></div>
      <div class="addr mono" title="HTTP · transport"></div>
      <div class="addr"><span class="count"></span> <span class="tags"></span></div>
      <div class="actions">${VERBS.map((verb) => `<button type="button" data-verb="${verb}" data-node="${esc(node.id)}">${verb}</button>`).join('')}</div>`;
    return card;
  }

  function fillCard(card, node) {
    if (!card.parts) {
      card.parts = {
        star: card.querySelector('.star'), name: card.querySelector('.node-name'), state: card.querySelector('.state'),
        roles: card.querySelector('.roles'), addresses: card.querySelector('.addr.mono'), count: card.querySelector('.count'),
        tags: card.querySelector('.tags'), buttons: [...card.querySelectorAll('button[data-verb]')],
      };
    }
    const parts = card.parts;
    const state = nodeState(node);
    const isMaster = !!cluster && cluster.master_node_id === node.id;
    if (card.dataset.node !== node.name) {
      card.dataset.node = node.name;
      card.style.setProperty('--node-color', nodeColor(node));
    }
    if (card.dataset.state !== state) card.dataset.state = state;
    if (parts.star.hidden !== !isMaster) parts.star.hidden = !isMaster;
    setText(parts.name, node.name);
    const stateElement = parts.state;
    if (stateElement.className !== `state ${state}`) stateElement.className = `state ${state}`;
    setText(stateElement, state);
    const roles = parts.roles;
    setText(roles, (node.roles || []).map((r) => r[0]).join('') || '-');
    setTitle(roles, `roles: ${(node.roles || []).join(', ') || 'coordinating only'}`);
    setText(parts.addresses, `${node.http || '-'} · ${node.transport || '-'}`);
    setText(parts.count, `${node.taskCount.toLocaleString()} tasks`);
    const tags = [];
    if (node.everSeen && cluster && !inCluster(node) && state !== 'gone') tags.push(['not in cluster', 'warn']);
    const rules = node.faults.size;
    if (rules) tags.push([`${rules} fault rule${rules === 1 ? '' : 's'}`, 'bad']);
    if (node.busy) tags.push([`${node.busy}…`, 'warn']);
    const tagHtml = tags.map(([t, c]) => `<span class="tag ${c}">${esc(t)}</span>`).join(' ');
    if (parts.tagHtml !== tagHtml) {
      parts.tags.innerHTML = tagHtml;
      parts.tagHtml = tagHtml;
    }
    const enabled = {
      kill: control && state !== 'gone',
      pause: control && state === 'up',
      resume: control && state === 'paused',
      start: control && state === 'gone',
      isolate: state === 'up' && node.transport,
    };
    for (const element of parts.buttons) {
      const verb = element.dataset.verb;
      const disabled = !enabled[verb] || !!node.busy;
      if (element.disabled !== disabled) element.disabled = disabled;
      setTitle(element, verb !== 'isolate' && !control ? 'needs the launcher: open this page with `simcluster ui`' : '');
    }
  }

  function renderShards() {
    const container = $('#shards');
    if (!cluster || cluster.indices.length === 0) {
      container.innerHTML = '<p class="muted">no index</p>';
      return;
    }
    const byNode = new Map();
    const unassigned = new Map();
    for (const index of cluster.indices) {
      index.shards.forEach((copies, shardId) => {
        for (const copy of copies) {
          const map = copy.node ? (byNode.get(copy.node) || byNode.set(copy.node, new Map()).get(copy.node)) : unassigned;
          if (!map.has(index.name)) map.set(index.name, []);
          map.get(index.name).push({ shardId, ...copy });
        }
      });
    }
    const cell = (list) => (list || [])
      .sort((a, b) => a.shardId - b.shardId || b.primary - a.primary)
      .map((c) => `<span class="shard ${c.primary ? 'primary' : 'replica'} ${c.state}" title="shard ${c.shardId} ${c.primary ? 'primary' : 'replica'} ${c.state}">${c.shardId}</span>`)
      .join('');
    const head = cluster.indices.map((i) => `<th title="${esc(i.name)}: ${i.status}">${esc(i.name)}<span class="status ${i.status}"></span></th>`).join('');
    let body = '';
    if (unassigned.size) {
      body += `<tr><th class="muted">unassigned</th>${cluster.indices.map((i) => `<td>${cell(unassigned.get(i.name))}</td>`).join('')}</tr>`;
    }
    for (const info of cluster.nodes) {
      const node = nodes.get(info.id);
      const star = cluster.master_node_id === info.id ? '<span class="star">★</span> ' : '';
      const color = node ? nodeColor(node) : 'var(--muted)';
      const map = byNode.get(info.id) || new Map();
      body += `<tr><th style="--node-color:${color}"><span class="dot"></span> ${star}${esc(info.name)}</th>${cluster.indices.map((i) => `<td>${cell(map.get(i.name))}</td>`).join('')}</tr>`;
    }
    container.innerHTML = `<table><thead><tr><th></th>${head}</tr></thead><tbody>${body}</tbody></table>`;
  }

  // The task list is virtualized: a pool of row elements, positioned over a spacer as tall as every row.
  const rowPool = [];
  function renderRows() {
    const viewport = $('#tasks-viewport');
    const spacer = $('#tasks-spacer');
    const height = `${rows.length * ROW_H}px`;
    if (spacer.style.height !== height) spacer.style.height = height;
    const empty = $('#tasks-empty');
    if (empty.hidden !== rows.length > 0) empty.hidden = rows.length > 0;
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_H) - OVERSCAN);
    const count = Math.min(rows.length - first, Math.ceil(viewport.clientHeight / ROW_H) + 2 * OVERSCAN);
    while (rowPool.length < count) {
      const row = make('div', 'task-row task');
      row.innerHTML = '<span class="action"><span class="toggle"></span><span class="name"></span></span>'
        + '<span class="node-cell"><span class="dot"></span><span class="node-name"></span></span>'
        + '<span><span class="type"></span></span><span class="desc"></span><span class="running mono"></span>'
        + '<span class="opaque mono"></span><span class="state-cell"></span><span><button type="button" class="cancel" data-verb="cancel">cancel</button></span>';
      spacer.append(row);
      rowPool.push(row);
    }
    const now = Date.now();
    for (let i = 0; i < rowPool.length; i++) {
      const row = rowPool[i];
      if (i >= count || first + i >= rows.length) {
        if (!row.hidden) row.hidden = true;
        continue;
      }
      if (row.hidden) row.hidden = false;
      fillRow(row, rows[first + i], first + i, now);
    }
    stats.rows = rows.length;
    setText($('#task-count'), `${tasks.size.toLocaleString()} on ${countLive()} nodes; ${rows.length.toLocaleString()} shown`);
  }

  function fillRow(row, task, index, now) {
    const { depth, kids } = task;
    const node = nodes.get(task.node);
    const [actionCell, nodeCell, typeCell, description, runningCell, opaque, stateCell, cancelCell] = row.children;
    const y = `translateY(${index * ROW_H}px)`;
    if (row.style.transform !== y) row.style.transform = y;
    if (row.dataset.task !== task.key) {
      row.dataset.task = task.key;
      row.dataset.action = task.action;
      row.title = `${task.key}${task.parent ? ` ← parent ${task.parent}` : ''}`;
      const [toggle, name] = actionCell.children;
      name.textContent = task.action;
      toggle.dataset.toggle = task.key;
      nodeCell.style.setProperty('--node-color', node ? nodeColor(node) : 'var(--muted)');
      setText(nodeCell.lastChild, node ? node.name : task.node.slice(0, 8));
      const type = typeCell.firstChild;
      type.className = `type ${task.type}`;
      setText(type, task.type);
      type.title = task.type === 'direct' ? 'sent by this node to itself, in-process' : 'received from the REST layer or over gRPC';
      setText(description, task.description);
      description.title = task.description;
      setText(opaque, task.opaque);
      opaque.title = task.opaque;
      cancelCell.firstChild.dataset.task = task.key;
    }
    const indent = `${depth * 16}px`;
    if (actionCell.style.paddingLeft !== indent) actionCell.style.paddingLeft = indent;
    setText(actionCell.firstChild, kids ? (collapsed.has(task.key) ? '▸' : '▾') : '');
    row.classList.toggle('cancelled', !!task.cancelled);
    row.classList.toggle('ended', !!task.ended);
    row.classList.toggle('failed', task.outcome === 'failed');
    if (task.flash) {
      // A row flashes as its cancellation arrives (not when it scrolls into view later). The Web Animations API
      // restarts the flash without forcing a layout, as toggling a CSS class would.
      if (now - task.flash < 300) {
        row.animate([{ backgroundColor: '#7a2c33' }, { backgroundColor: 'transparent' }], { duration: 500, easing: 'ease-out' });
      }
      task.flash = 0;
    }
    const offset = node && node.clockOffset ? node.clockOffset : 0;
    setText(runningCell, formatDuration((task.ended || now) + offset - task.start));
    let state = task.cancelled ? 'cancelling' : 'running';
    if (task.ended) state = task.outcome === 'completed' ? 'completed' : task.outcome;
    if (!task.cancellable && !task.ended) state = 'running ⊘';
    setText(stateCell, state);
    let why = task.cancellable ? 'cancellable' : 'not cancellable';
    if (task.error) why = `${task.error.type}: ${task.error.reason}`;
    if (task.cancelled) why = `cancelled: ${task.reason || ''}`;
    setTitle(stateCell, why);
    const cancel = cancelCell.firstChild;
    const hidden = !task.cancellable || task.cancelled || !!task.ended;
    if (cancel.hidden !== hidden) cancel.hidden = hidden;
  }

  function formatDuration(ms) {
    if (ms < 0) ms = 0;
    if (ms < 1000) return `${Math.round(ms)}ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(1)}s`;
    const s = Math.floor(ms / 1000);
    if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
    return `${Math.floor(s / 3600)}h ${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
  }

  // ---- the timeline ---------------------------------------------------------------------------------------------

  function esc(text) {
    return String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  }

  // One entry per happening: what every node reports about the cluster shares a key, so it is merged.
  function entry(key, time, category, build, reporter, bad) {
    let item = key ? timelineByKey.get(key) : null;
    if (!item) {
      item = { key, time, category, html: '', reporters: new Set(), bad: !!bad, element: null, data: {} };
      if (timeline.length && timeline[timeline.length - 1].time > time) timelineUnsorted = true;
      timeline.push(item);
      if (key) timelineByKey.set(key, item);
    }
    if (reporter) item.reporters.add(reporter);
    build(item);
    if (bad) item.bad = true;
    item.changed = true;
    dirty.timeline = true;
    return item;
  }

  function addPageEntry(html, bad) {
    entry(null, Date.now(), 'page', (item) => { item.html = html; }, null, bad);
    schedule();
  }

  function note(text, bad) {
    const toast = make('div', `toast${bad ? ' error' : ''}`, text);
    $('#toasts').append(toast);
    setTimeout(() => toast.remove(), bad ? 9000 : 5000);
  }

  // Events of one process are numbered in order, and a reconnected stream repeats the recent ones: skip those.
  function onTimelineEvent(node, event) {
    if (event.seq <= node.lastSeq) return;
    node.lastSeq = event.seq;
    const time = event.time;
    const who = node.name;
    switch (event.kind) {
      case 'master_elected':
        entry(event.key, time, 'cluster', (i) => { i.html = `<b>${esc(event.subject)}</b> elected master (term ${event.term})`; }, who);
        break;
      case 'master_lost':
        entry(event.key, time, 'cluster', (i) => { i.html = `master <b>${esc(event.subject)}</b> lost (term ${event.term})`; }, who, true);
        break;
      case 'node_joined':
        entry(event.key, time, 'cluster', (i) => { i.html = `<b>${esc(event.subject)}</b> joined the cluster`; }, who);
        break;
      case 'node_left':
        entry(event.key, time, 'cluster', (i) => { i.html = `<b>${esc(event.subject)}</b> left the cluster`; }, who, true);
        break;
      case 'index_created':
        entry(event.key, time, 'cluster', (i) => { i.html = `index <b>[${esc(event.subject)}]</b> created`; }, who);
        break;
      case 'index_deleted':
        entry(event.key, time, 'cluster', (i) => { i.html = `index <b>[${esc(event.subject)}]</b> deleted`; }, who);
        break;
      case 'fault_added':
      case 'fault_removed':
      case 'fault_healed':
      case 'fault_expired': {
        const change = event.kind.slice(6);
        const groups = new Map();
        for (const rule of event.faults) {
          if (!groups.has(rule.group)) groups.set(rule.group, []);
          groups.get(rule.group).push(rule);
        }
        for (const [group, rules] of groups) {
          entry(`fault:${change}:${group}:${change === 'added' ? '' : Math.floor(time / 5000)}`, time, 'fault', (i) => {
            i.data.links = i.data.links || new Set();
            for (const rule of rules) i.data.links.add(`${rule.source_name} → ${rule.target_name || rule.target} ${rule.kind}`);
            const links = [...i.data.links].sort();
            i.html = `fault <b>${esc(group)}</b> ${change}: ${esc(links.slice(0, 6).join(', '))}${links.length > 6 ? ` +${links.length - 6} more` : ''}`;
          }, who, change === 'added');
        }
        break;
      }
      case 'task_started': {
        const task = event.task;
        if (task.parent_task_id || NOISE_INTERNAL.test(task.action)) break; // children; the nodes' own traffic
        const category = task.action.startsWith('cluster:monitor/') ? 'monitor' : 'task';
        const opaque = (task.headers || {})['X-Opaque-Id'];
        entry(`task:${node.ephemeral}:${task.id}`, time, category, (i) => {
          i.data.base = `<b>${esc(task.action)}</b> on ${esc(who)} <span class="muted">${esc(keyOf(task.node, task.id))}${opaque ? ` [${esc(opaque)}]` : ''}</span>`;
          i.html = `${i.data.base} started`;
        });
        break;
      }
      case 'task_cancelled': {
        if (NOISE_INTERNAL.test(event.action)) break;
        const item = timelineByKey.get(`task:${node.ephemeral}:${event.id}`);
        if (item) {
          entry(item.key, item.time, item.category, (i) => { i.html = `${i.data.base} cancelled <span class="muted">(${esc(event.reason)})</span>`; }, null, true);
        }
        break;
      }
      case 'task_finished': {
        const key = `task:${node.ephemeral}:${event.id}`;
        const item = timelineByKey.get(key);
        if (!item && event.outcome !== 'failed') break;
        const took = formatDuration(event.running_time_in_nanos / 1e6);
        const error = event.error ? `: ${esc(event.error.type)} ${esc(event.error.reason)}` : '';
        const outcome = event.outcome === 'completed' ? `completed in ${took}` : `${event.outcome} after ${took}${error}`;
        if (item) {
          entry(key, item.time, item.category, (i) => { i.html = `${i.data.base} ${outcome}`; }, null, event.outcome !== 'completed');
        } else if (event.outcome === 'failed') {
          entry(key, time, 'task', (i) => { i.html = `<b>${esc(event.action)}</b> on ${esc(who)} <span class="muted">${esc(keyOf(event.node, event.id))}</span> ${outcome}`; }, null, true);
        }
        break;
      }
      default:
        break;
    }
  }

  let timelineUnsorted = false;
  const shownCategories = new Set(['cluster', 'fault', 'task', 'page']);

  // The entries in view are re-ordered only when one was added; otherwise only the ones that changed are redrawn.
  let timelineShown = [];
  function renderTimeline() {
    if (timelineUnsorted) {
      timeline.sort((a, b) => a.time - b.time); // reports from several nodes arrive out of order
      timelineUnsorted = false;
    }
    if (timeline.length > TIMELINE_MAX) {
      for (const dropped of timeline.splice(0, timeline.length - TIMELINE_MAX)) {
        if (dropped.key && timelineByKey.get(dropped.key) === dropped) timelineByKey.delete(dropped.key);
      }
    }
    const shown = [];
    for (let i = timeline.length - 1; i >= 0 && shown.length < TIMELINE_SHOWN; i--) {
      if (shownCategories.has(timeline[i].category)) shown.push(timeline[i]);
    }
    for (const item of shown) {
      if (!item.element) item.element = make('li');
      if (!item.changed) continue;
      const reporters = [...item.reporters].sort(byName);
      const who = reporters.length > 1 ? `seen by ${reporters.length} nodes: ${reporters.slice(0, 5).join(', ')}${reporters.length > 5 ? ' …' : ''}` : '';
      item.element.className = `${item.category}${item.bad ? ' bad' : ''}`;
      item.element.innerHTML = `<span class="when">${clock(item.time)}</span><span class="what">${item.html}${who ? `<span class="who">${esc(who)}</span>` : ''}</span>`;
      item.changed = false;
    }
    if (shown.length !== timelineShown.length || shown.some((item, i) => item !== timelineShown[i])) {
      $('#timeline').replaceChildren(...shown.map((item) => item.element));
      timelineShown = shown;
    }
  }

  function clock(millis) {
    const d = new Date(millis);
    return `${d.toTimeString().slice(0, 8)}.${String(d.getMilliseconds()).padStart(3, '0')}`;
  }

  // ---- actions ----------------------------------------------------------------------------------------------------

  const dialog = $('#confirm');
  function confirmAction(title, text, api, danger = true) {
    $('#confirm-title').textContent = title;
    $('#confirm-text').textContent = text;
    $('#confirm-api').textContent = api;
    $('#confirm-ok').className = danger ? 'danger' : '';
    $('#confirm-ok').textContent = title.split(' ')[0];
    dialog.returnValue = '';
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    });
  }

  function originNode() {
    for (const stream of streams.values()) {
      if (stream.sameOrigin && stream.nodeId) return nodes.get(stream.nodeId);
    }
    return null;
  }

  // `/_sim/` endpoints answer this page from any node; the page's own node is tried first.
  function simBase() {
    const origin = originNode();
    if (origin && nodeState(origin) === 'up') return '';
    for (const node of sortedNodes()) if (nodeState(node) === 'up' && node.http) return `http://${node.http}`;
    return '';
  }

  async function call(url, options = {}) {
    const response = await fetch(url, options);
    const text = await response.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch { body = text; }
    if (!response.ok) {
      const reason = body && body.error ? (body.error.reason || body.error) : `HTTP ${response.status}`;
      throw new Error(typeof reason === 'string' ? reason : JSON.stringify(reason));
    }
    return body;
  }

  async function cancelTaskAction(key) {
    const task = tasks.get(key);
    if (!task) return;
    const ok = await confirmAction(
      `Cancel task ${key}?`,
      `${task.action}: it is marked cancelled at once, its children are banned on every node where they run, and each task stops at its next check (the tree below shows it).`,
      `POST /_tasks/${key}/_cancel`,
    );
    if (!ok) return;
    try {
      const body = await call(`/_tasks/${encodeURIComponent(key)}/_cancel`, { method: 'POST', headers: { 'X-Opaque-Id': UI_OPAQUE_ID } });
      const failures = [...(body.node_failures || []), ...(body.task_failures || [])];
      if (failures.length) note(`cancel ${key}: ${failures.map((f) => f.reason || (f.caused_by || {}).reason).join('; ')}`, true);
    } catch (error) {
      const live = sortedNodes().filter((n) => nodeState(n) === 'up').map((n) => n.http).filter(Boolean);
      note(`cancel ${key} failed: ${error.message}${live.length ? `; open the view on a live node: http://${live[0]}/_sim/ui/` : ''}`, true);
    }
  }

  async function startTestTask(form) {
    const duration = form.elements.duration.value.trim() || '60s';
    const depth = form.elements.depth.value;
    const base = simBase();
    const query = new URLSearchParams({ wait_for_completion: 'false', duration, depth });
    try {
      const headers = base ? {} : { 'X-Opaque-Id': UI_OPAQUE_ID };
      const body = await call(`${base}/_sim/tasks?${query}`, { method: 'POST', headers });
      note(`started test task ${body.task}`);
    } catch (error) {
      note(`could not start a test task: ${error.message}`, true);
    }
  }

  async function nodeVerb(verb, node) {
    const texts = {
      kill: ['SIGKILL to its process, as a crash: its tasks vanish, the children of its tasks on other nodes are cancelled, and the master removes it from the cluster.', `simcluster node kill ${node.name}`],
      pause: ['SIGSTOP: the process and its connections stay, but it answers nothing; the master removes it once its checks time out. Resume it to bring it back.', `simcluster node pause ${node.name}`],
      resume: ['SIGCONT: the paused process runs again and rejoins the cluster.', `simcluster node resume ${node.name}`],
      start: ['Starts the node again with its data directory, so with the same node id, and waits until it joined the cluster.', `simcluster node start ${node.name}`],
    };
    const [text, api] = texts[verb];
    if (!await confirmAction(`${verb[0].toUpperCase()}${verb.slice(1)} ${node.name}?`, text, api, verb === 'kill' || verb === 'pause')) return;
    node.busy = verb;
    touchNodes();
    addPageEntry(`${esc(verb)} <b>${esc(node.name)}</b> requested from this page`);
    try {
      const body = await call(`${control.url}/nodes/${encodeURIComponent(node.name)}/${verb}`, {
        method: 'POST', headers: { 'X-Simcluster-Token': control.token },
      });
      note(`${node.name}: ${body.result}`);
      addPageEntry(`<b>${esc(node.name)}</b>: ${esc(body.result)}`);
    } catch (error) {
      note(`${verb} ${node.name} failed: ${error.message}`, true);
    } finally {
      node.busy = null;
      refreshControlStatus(true);
      touchNodes();
    }
  }

  // Isolation is a fault every node installs on its own outbound links, so the page asks each node itself.
  async function isolate(node) {
    const others = sortedNodes().filter((n) => n !== node && n.transport && nodeState(n) !== 'gone');
    const ok = await confirmAction(
      `Isolate ${node.name}?`,
      `Black-holes every request between ${node.name} and the ${others.length} other nodes, both ways: one rule per link on the sending node. It keeps running but cannot talk to the cluster until the faults are healed.`,
      `POST /_sim/faults {"kind": "blackhole", "target": ..., "group": ...} on every node`,
    );
    if (!ok) return;
    const group = `ui-isolate-${node.name}-${Math.random().toString(36).slice(2, 8)}`.replace(/[^A-Za-z0-9_.:-]/g, '');
    const installs = [];
    for (const other of others) {
      installs.push([node, { kind: 'blackhole', target: other.transport, target_name: other.name, group }]);
      installs.push([other, { kind: 'blackhole', target: node.transport, target_name: node.name, group }]);
    }
    const results = await Promise.allSettled(installs.map(([source, body]) => call(`${baseOf(source)}/_sim/faults`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    })));
    const failed = results.filter((r) => r.status === 'rejected');
    note(`isolate ${node.name}: ${results.length - failed.length} of ${results.length} rules installed (fault ${group})`, failed.length > 0);
  }

  async function healAll() {
    const targets = sortedNodes().filter((n) => n.http && nodeState(n) !== 'gone');
    if (!await confirmAction('Heal every fault?', 'Removes every fault rule on every node that answers; a paused node keeps its rules until it is resumed and healed.', 'POST /_sim/faults/_heal on every node', false)) return;
    const results = await Promise.allSettled(targets.map((n) => call(`${baseOf(n)}/_sim/faults/_heal`, { method: 'POST' })));
    const healed = results.filter((r) => r.status === 'fulfilled').reduce((sum, r) => sum + (r.value.healed || []).length, 0);
    const failed = targets.filter((_, i) => results[i].status === 'rejected').map((n) => n.name);
    note(`healed ${healed} fault rule${healed === 1 ? '' : 's'}${failed.length ? `; not reached: ${failed.join(', ')}` : ''}`, failed.length > 0);
  }

  function baseOf(node) {
    const origin = originNode();
    return origin === node ? '' : `http://${node.http}`;
  }

  function refreshControlStatus(force) {
    if (!control || control.statusPending) return;
    const wait = 1000 - (Date.now() - control.lastStatus);
    if (wait > 0 && !force) {
      setTimeout(() => refreshControlStatus(), wait);
      return;
    }
    control.statusPending = true;
    control.lastStatus = Date.now();
    call(`${control.url}/nodes`, { headers: { 'X-Simcluster-Token': control.token } })
      .then((status) => {
        control.ok = true;
        for (const info of status.nodes) {
          const node = info.node_id ? nodeOf(info.node_id) : null;
          if (!node) continue;
          if (!node.everSeen) Object.assign(node, { name: info.name, http: info.http_address, transport: info.transport_address, roles: info.roles });
          node.process = info.state;
          if (info.state === 'UP' && info.http_address) {
            const stream = streamOf(node);
            if (!stream || stream.state === 'error') {
              if (stream && stream.address !== info.http_address) close(stream);
              connect(info.http_address, false);
            }
          }
        }
      })
      .catch(() => { control.ok = false; })
      .finally(() => {
        control.statusPending = false;
        touchNodes();
      });
  }

  // ---- wiring -------------------------------------------------------------------------------------------------------

  function wire() {
    const redraw = () => {
      dirty.rows = true;
      scrolled = true;
      schedule();
    };
    $('#tasks-viewport').addEventListener('scroll', redraw, { passive: true });
    window.addEventListener('resize', redraw);
    $('#tasks-viewport').addEventListener('click', (e) => {
      const toggle = e.target.closest('[data-toggle]');
      if (toggle && toggle.textContent) {
        const key = toggle.dataset.toggle;
        if (collapsed.has(key)) collapsed.delete(key); else collapsed.add(key);
        dirty.tree = true;
        last.tree = 0;
        schedule();
        return;
      }
      const cancel = e.target.closest('button[data-verb="cancel"]');
      if (cancel) cancelTaskAction(cancel.dataset.task);
    });
    $('#nodes').addEventListener('click', (e) => {
      const target = e.target.closest('button[data-verb]');
      if (!target || target.disabled) return;
      const node = nodes.get(target.dataset.node);
      if (!node) return;
      if (target.dataset.verb === 'isolate') isolate(node);
      else nodeVerb(target.dataset.verb, node);
    });
    $('#start-task').addEventListener('submit', (e) => {
      e.preventDefault();
      startTestTask(e.target);
    });
    $('#heal-all').addEventListener('click', healAll);
    const refilter = () => {
      const monitor = $('#f-monitor').checked;
      const resubscribe = monitor !== filters.monitor;
      filters = { action: $('#f-action').value, node: $('#f-node').value, opaque: $('#f-opaque').value, monitor };
      if (resubscribe) reopenAll();
      dirty.tree = true;
      last.tree = 0;
      schedule();
    };
    for (const id of ['#f-action', '#f-opaque']) $(id).addEventListener('input', refilter);
    for (const id of ['#f-node', '#f-monitor']) $(id).addEventListener('change', refilter);
    $('#expand-all').addEventListener('click', () => { collapsed.clear(); dirty.tree = true; last.tree = 0; schedule(); });
    $('#collapse-all').addEventListener('click', () => {
      for (const key of children.keys()) if (tasks.has(key)) collapsed.add(key);
      dirty.tree = true;
      last.tree = 0;
      schedule();
    });
    for (const box of document.querySelectorAll('#timeline-panel input[data-cat]')) {
      box.addEventListener('change', () => {
        if (box.checked) shownCategories.add(box.dataset.cat); else shownCategories.delete(box.dataset.cat);
        if (box.dataset.cat === 'cluster') {
          if (box.checked) shownCategories.add('page'); else shownCategories.delete('page');
        }
        dirty.timeline = true;
        schedule();
      });
    }
    // Running times tick and silent nodes are noticed: once a second, locally, without asking any node.
    setInterval(() => {
      dirty.rows = true;
      for (const stream of streams.values()) {
        if (stream.state === 'open' && Date.now() - stream.lastHeard > SILENT_MS && !stream.silent) {
          stream.silent = true;
          addPageEntry(`<b>${esc(nameOfStream(stream))}</b> went silent (no heartbeat for ${SILENT_MS / 1000}s): paused?`, true);
          refreshControlStatus();
          dirty.nodes = true;
        } else if (stream.silent && Date.now() - stream.lastHeard <= SILENT_MS) {
          stream.silent = false;
          addPageEntry(`<b>${esc(nameOfStream(stream))}</b> answers again`);
          dirty.nodes = true;
        }
      }
      dirty.header = true;
      schedule();
    }, 1000);
  }

  wire();
  connect(location.host, true);
  if (control) refreshControlStatus(true);
  addPageEntry(`view opened on <b>${esc(location.host)}</b>${control ? '' : ' (no node controls: open it with <code>simcluster ui</code> for kill, pause, resume and start)'}`);
  touchAll();
})();
