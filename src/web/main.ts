/**
 * The page: a header to choose the probe and ask about two endpoints, three views (graph, matrix,
 * editor) and the explanation panel. State is small and lives here: the cluster, the relation per
 * probe (loaded and, while editing, edited), the edits. Deep links: `#graph`, `#matrix`, `#editor`,
 * `#check?from=NS/POD&to=NS/POD&port=P&protocol=TCP`.
 */
import { api, ApiError, Reach, type ClusterView, type Edit, type ExternalBlock, type Probe, type ProbeDiff } from './api.js';
import { byId, h, replace } from './dom.js';
import { Editor } from './editor.js';
import { renderAnswer } from './explain.js';
import { Graph, POD_LIMIT } from './graph.js';
import { Matrix } from './matrix.js';
import { announce, follow, pairChanges } from './live.js';
import { checkable, dropNote, renderDrops, type CheckedAnswer, type DropContext, type DropEnd, type DropPair, type DropsView } from './drops.js';
import type { DropNode, GraphDrop } from './graph.js';

type View = 'graph' | 'matrix' | 'editor';

const state = {
  cluster: undefined as ClusterView | undefined,
  probe: { port: 80, protocol: 'TCP' } as Probe,
  reach: new Map<string, Reach>(),
  external: new Map<string, readonly ExternalBlock[]>(),
  edits: [] as Edit[],
  edited: undefined as { probe: string; reach: Reach; diff: ProbeDiff; scope: string | undefined } | undefined,
  view: 'graph' as View,
  /** Namespaces opened in place while the graph aggregates. */
  expanded: new Set<string>(),
  podIndex: new Map<string, number>(),
  /** The agents' recent drops (undefined without agents), and the pairs drawn (by the graph's index). */
  drops: undefined as DropsView | undefined,
  drawnDrops: [] as DropPair[],
};

const probeKey = (p: Probe) => `${p.protocol}/${p.port}`;

function status(text: string, error = false): void {
  const el = byId('status');
  el.className = error ? 'error' : '';
  replace(el, text);
}

// --- theme ------------------------------------------------------------------------------------------

function setTheme(theme: string): void {
  document.documentElement.dataset.theme = theme;
  localStorage.setItem('netpol-theme', theme);
  replace(byId('theme'), theme === 'dark' ? 'Light' : 'Dark');
  graph.restyle();
  matrix.draw();
}

// --- views ------------------------------------------------------------------------------------------

const graph = new Graph(byId('graph'), {
  edge: (from, to) => void explain(podName(from), podName(to)),
  externalEdge: (i, k, outward) => {
    const address = currentExternal()[k]!.address;
    void explain(outward ? podName(i) : address, outward ? address : podName(i));
  },
  pod: (i) => showPod(i),
  drop: (k) => {
    const p = state.drawnDrops[k];
    if (p) openDrop({ action: p.lastAction, from: p.from, to: p.to, protocol: p.protocol, ...(p.port !== undefined ? { port: p.port } : {}), time: p.last, pair: p });
  },
  block: (k) => showBlock(currentExternal()[k]!),
  toggle: (ns) => {
    if (!state.expanded.delete(ns)) state.expanded.add(ns);
    drawGraph(true);
  },
});
const matrix = new Matrix(byId('matrix'), {
  cell: (from, to) => void explain(podName(from), podName(to)),
  hover: (text) => replace(byId('matrix-status'), text || `${matrix.counts.rows} rows × ${matrix.counts.cols} columns`),
});
const editor = new Editor(
  byId('editor'),
  (edits) => void analyze(edits),
  () => state.cluster?.namespaces[0]?.name ?? 'default',
);

function podName(i: number): string {
  const p = state.cluster!.pods[i]!;
  return `${p.namespace}/${p.name}`;
}

/** The relation drawn: the edited one while edits change something, else the loaded one. */
function currentReach(): Reach | undefined {
  if (state.edits.length > 0 && state.edited?.probe === probeKey(state.probe)) return state.edited.reach;
  return state.reach.get(probeKey(state.probe));
}

/**
 * Whose arrows to address blocks the graph draws: every pod's ('all'), or while it aggregates only the
 * open namespaces' (undefined when none is open). The server asks only about those pods.
 */
function externalScope(): readonly string[] | 'all' | undefined {
  if (!state.cluster || state.cluster.pods.length <= POD_LIMIT) return 'all';
  return state.expanded.size === 0 ? undefined : [...state.expanded].sort();
}

const scopeKey = (scope: readonly string[] | 'all' | undefined) => (scope === undefined ? '' : scope === 'all' ? '*' : scope.join('\n'));

/** The address blocks drawn with the relation above, once loaded. */
function currentExternal(): readonly ExternalBlock[] {
  const scope = scopeKey(externalScope());
  if (state.edits.length > 0 && state.edited?.probe === probeKey(state.probe)) return state.edited.scope === scope ? (state.edited.diff.external ?? []) : [];
  return state.external.get(`${probeKey(state.probe)}|${scope}`) ?? [];
}

/** Loads the blocks for the graph's scope when missing (after the graph is drawn: they never delay it), then redraws in place. */
function loadExternal(): void {
  const scope = externalScope();
  if (scope === undefined) return;
  if (state.edits.length > 0 && state.edited?.probe === probeKey(state.probe)) {
    if (state.edited.scope !== scopeKey(scope)) void analyze(state.edits);
    return;
  }
  const key = `${probeKey(state.probe)}|${scopeKey(scope)}`;
  if (state.external.has(key)) return;
  state.external.set(key, []);
  api
    .external(state.probe, scope)
    .then((r) => {
      state.external.set(key, r.blocks);
      // All pods drawn: fit the picture again, blocks included; namespaces opened in place: keep the view.
      if (`${probeKey(state.probe)}|${scopeKey(externalScope())}` === key) drawGraph(graph.aggregated);
    })
    .catch((e: Error) => {
      state.external.delete(key);
      status(e.message, true);
    });
}

function showView(view: View): void {
  state.view = view;
  for (const v of ['graph', 'matrix', 'editor'] as const) {
    byId(`view-${v}`).hidden = v !== view;
    byId(`tab-${v}`).setAttribute('aria-selected', String(v === view));
  }
  if (view === 'graph') drawGraph();
  if (view === 'matrix') drawMatrix();
  if (view === 'editor') void loadDocuments();
}

function drawGraph(inPlace = false): void {
  const reach = currentReach();
  if (!reach || !state.cluster || state.view !== 'graph') return;
  graph.render({ pods: state.cluster.pods, reach, external: currentExternal(), expanded: state.expanded, drops: graphDrops() }, inPlace);
  loadExternal();
  byId('graph-back').hidden = state.expanded.size === 0;
  replace(
    byId('graph-note'),
    graph.aggregated
      ? `${state.cluster.pods.length} pods: one box per namespace${state.expanded.size ? `, ${state.expanded.size} open` : ''}. Click a box to open it in place (click it again to close); arrow keys and Enter do the same.`
      : `${graph.shownPods().length} pods. Click an arrow for the reason; arrow keys walk the pods.`,
  );
}

/** The drop pairs the graph can draw (both ends a pod or a block of the picture), most recent first. */
function graphDrops(): GraphDrop[] {
  state.drawnDrops = [];
  const external = currentExternal();
  const node = (e: DropEnd): DropNode | undefined => {
    if (e.kind === 'pod') {
      const i = state.podIndex.get(e.name);
      return i === undefined ? undefined : { pod: i };
    }
    const k = e.kind === 'block' ? external.findIndex((b) => b.label === e.name) : -1;
    return k < 0 ? undefined : { block: k };
  };
  const out: GraphDrop[] = [];
  for (const p of state.drops?.pairs ?? []) {
    const from = node(p.from);
    const to = node(p.to);
    if (!from || !to) continue;
    state.drawnDrops.push(p);
    out.push({ from, to, denied: p.denied, audited: p.audited, last: p.last });
  }
  return out;
}

/** New drops from the server: the list, and the graph in place. */
function setDrops(view: DropsView): void {
  state.drops = view;
  renderDrops(view, openDrop);
  if (state.view === 'graph' && document.body.dataset.ready === 'true') drawGraph(true);
  document.body.dataset.drops = String(view.kept);
}

/** Explains a drop: the same question `netpol check` is asked about it, with what the agent saw above. */
function openDrop(c: DropContext): void {
  if (!checkable(c)) {
    replace(byId('explain'), dropNote(c, undefined));
    return;
  }
  void explain(c.from.check, c.to.check, String(c.port), c.protocol, c);
}

function drawMatrix(): void {
  const reach = currentReach();
  if (!reach || !state.cluster || state.view !== 'matrix') return;
  matrix.render(state.cluster.pods, reach, byId<HTMLInputElement>('row-filter').value, byId<HTMLInputElement>('col-filter').value);
  replace(byId('matrix-status'), `${matrix.counts.rows} rows × ${matrix.counts.cols} columns`);
}

function redraw(): void {
  drawGraph();
  drawMatrix();
}

function showPod(i: number): void {
  const p = state.cluster!.pods[i]!;
  replace(
    byId('explain'),
    h(
      'section',
      { class: 'pod' },
      h('h3', {}, `${p.namespace}/${p.name}`),
      p.workload && h('p', {}, `${p.workload.kind} ${p.workload.name}${p.workload.replicas !== undefined ? `, ${p.workload.replicas} replicas` : ''}`),
      h(
        'p',
        {},
        'labels: ',
        Object.entries(p.labels).map(([k, v]) => h('code', {}, `${k}=${v}`)),
      ),
      p.ips.length > 0 && h('p', {}, `addresses: ${p.ips.join(', ')}`),
      h('p', {}, p.ingressIsolatedBy.length ? `ingress isolated by ${p.ingressIsolatedBy.join(', ')}` : 'ingress not isolated'),
      h('p', {}, p.egressIsolatedBy.length ? `egress isolated by ${p.egressIsolatedBy.join(', ')}` : 'egress not isolated'),
      (p.ingressTiers?.length ?? 0) > 0 && h('p', {}, `ingress selected by ${p.ingressTiers!.join(', ')}`),
      (p.egressTiers?.length ?? 0) > 0 && h('p', {}, `egress selected by ${p.egressTiers!.join(', ')}`),
      h('p', {}, h('button', { onclick: () => setEnd('from', i) }, 'Ask from here'), ' ', h('button', { onclick: () => setEnd('to', i) }, 'Ask to here')),
    ),
  );
}

function showBlock(b: ExternalBlock): void {
  replace(
    byId('explain'),
    h(
      'section',
      { class: 'pod' },
      h('h3', {}, b.label),
      h('p', {}, `outside the cluster; named by ${b.policies.join(', ')}`),
      h(
        'p',
        {},
        `verdicts are asked for ${b.address}, the first address of the block that is no pod's: a narrower block of another policy may decide other addresses differently (ask about one in the header)`,
      ),
      h(
        'p',
        {},
        `${b.reachedFrom.length ? 'reached by the pods with an arrow to it' : 'reached by no pod a policy decides'}; ${b.reaches.length ? 'reaches the pods its arrows point to' : 'reaches no pod a policy decides'}`,
      ),
    ),
  );
}

function setEnd(which: 'from' | 'to', i: number): void {
  byId<HTMLInputElement>(which).value = podName(i);
  const from = byId<HTMLInputElement>('from').value;
  const to = byId<HTMLInputElement>('to').value;
  if (from && to) void explain(from, to);
}

// --- questions --------------------------------------------------------------------------------------

async function explain(from: string, to: string, port = String(state.probe.port), protocol: string = state.probe.protocol, drop?: DropContext): Promise<void> {
  byId<HTMLInputElement>('from').value = from;
  byId<HTMLInputElement>('to').value = to;
  history.replaceState(null, '', `#check?${new URLSearchParams({ from, to, port, protocol }).toString()}`);
  const panel = byId('explain');
  replace(panel, h('p', { class: 'note' }, 'asking…'));
  try {
    const answer = await api.check({ from, to, port, protocol }, state.edits);
    const rendered = renderAnswer(answer, state.edits.length > 0, (a, b) => void explain(a, b, port, protocol));
    if (drop) replace(panel, dropNote(drop, answer as CheckedAnswer), rendered);
    else replace(panel, rendered);
  } catch (e) {
    replace(panel, h('p', { class: 'error' }, (e as Error).message));
  }
}

async function loadReach(): Promise<void> {
  const key = probeKey(state.probe);
  if (!state.reach.has(key)) {
    status(`analysing ${key}…`);
    state.reach.set(key, new Reach(await api.reach(state.probe)));
  }
  if (state.edits.length > 0 && state.edited?.probe !== key) await analyze(state.edits);
  status(`${state.cluster!.pods.length} pods, ${state.cluster!.policies.length} policies · ${key}`);
  redraw();
}

let documentsLoaded = false;
async function loadDocuments(): Promise<void> {
  if (documentsLoaded) return;
  documentsLoaded = true;
  editor.load((await api.documents()).documents);
}

let analyzing = 0;
async function analyze(edits: Edit[]): Promise<void> {
  state.edits = edits;
  const ticket = ++analyzing;
  const t0 = performance.now();
  if (edits.length === 0) {
    state.edited = undefined;
    editor.setDiagnostics([]);
    renderDiff(undefined, [], undefined);
    redraw();
    return;
  }
  const scope = externalScope();
  const result = await api.analyze(edits, state.probe, scope);
  if (ticket !== analyzing) return; // a newer edit is on its way
  editor.setDiagnostics(result.diagnostics);
  const diff = result.probes?.[0];
  if (result.invalid || !diff || diff.tooLarge) {
    renderDiff(undefined, [], result.invalid ? 'The edit has errors (see the editor): fix them to see its effect.' : 'Too many classes of pods to compare.');
    return;
  }
  state.edited = { probe: probeKey(state.probe), reach: new Reach(diff.reach), diff, scope: scopeKey(scope) };
  const changed = [...result.policies.added.map((p) => `${p} (new)`), ...result.policies.changed.map((p) => `${p} (changed)`), ...result.policies.removed.map((p) => `${p} (removed)`)];
  renderDiff(diff, changed, undefined);
  redraw();
  byId('diff').dataset.ms = String(Math.round(performance.now() - t0));
}

function renderDiff(diff: ProbeDiff | undefined, policies: string[], message: string | undefined): void {
  const el = byId('diff');
  if (!diff) {
    replace(el, h('h2', {}, 'Effect of the edit'), h('p', { class: 'note' }, message ?? 'No edits yet: change a policy, and the connections it adds or removes appear here.'));
    return;
  }
  replace(
    el,
    h('h2', {}, `Effect of the edit on ${diff.protocol}/${diff.port}`),
    h('p', {}, h('span', { class: 'added' }, `+${diff.added} added`), ' · ', h('span', { class: 'removed' }, `−${diff.removed} removed`), policies.length > 0 && ` · policies: ${policies.join(', ')}`),
    h(
      'ul',
      { class: 'changes' },
      diff.changes.map((c) =>
        h(
          'li',
          { class: c.change, 'data-change': c.change },
          h('button', { class: 'link', onclick: () => void explain(c.from, c.to) }, `${c.change === 'added' ? '+' : '−'} ${c.from} → ${c.to}`),
          c.causes.length > 0 && ` (${c.causes.join(', ')})`,
        ),
      ),
    ),
    diff.truncated && h('p', { class: 'note' }, `the first ${diff.changes.length} pairs are listed`),
  );
}

/** A deep link may name the probe: #graph?port=5000&protocol=TCP, #check?...&port=3306. True when it changed. */
function probeFromLink(q: URLSearchParams): boolean {
  const port = q.get('port');
  const protocol = q.get('protocol')?.toUpperCase();
  if (port) byId<HTMLInputElement>('port').value = port;
  if (protocol === 'TCP' || protocol === 'UDP' || protocol === 'SCTP') byId<HTMLSelectElement>('protocol').value = protocol;
  const before = probeKey(state.probe);
  state.probe = probeFromForm();
  return probeKey(state.probe) !== before;
}

function probeFromForm(): Probe {
  const port = byId<HTMLInputElement>('port').value.trim() || '80';
  return { port: /^\d+$/.test(port) ? Number(port) : port, protocol: byId<HTMLSelectElement>('protocol').value as Probe['protocol'] };
}

// --- routing ----------------------------------------------------------------------------------------

function route(): void {
  const hash = location.hash.slice(1);
  const [name, query] = hash.split('?', 2) as [string, string | undefined];
  const q = new URLSearchParams(query ?? '');
  if (probeFromLink(q)) loadReach().catch((e: Error) => status(e.message, true));
  if (name === 'graph' || name === 'matrix' || name === 'editor') showView(name);
  else if (name === 'check') {
    const from = q.get('from');
    const to = q.get('to');
    if (from && to) void explain(from, to);
  }
}

async function start(): Promise<void> {
  setTheme(localStorage.getItem('netpol-theme') ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
  byId('theme').addEventListener('click', () => setTheme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark'));
  for (const v of ['graph', 'matrix', 'editor'] as const) {
    byId(`tab-${v}`).addEventListener('click', () => {
      history.replaceState(null, '', `#${v}`);
      showView(v);
    });
  }
  byId('graph-back').addEventListener('click', () => {
    state.expanded.clear();
    drawGraph();
  });
  for (const id of ['row-filter', 'col-filter']) byId(id).addEventListener('input', () => drawMatrix());
  byId('probe').addEventListener('change', () => {
    state.probe = probeFromForm();
    loadReach().catch((e: Error) => status(e.message, true));
  });
  byId('probe').addEventListener('submit', (e) => e.preventDefault());
  byId('ask').addEventListener('submit', (e) => {
    e.preventDefault();
    void explain(byId<HTMLInputElement>('from').value.trim(), byId<HTMLInputElement>('to').value.trim());
  });
  window.addEventListener('hashchange', route);
  document.addEventListener('keydown', (e) => {
    if (e.altKey && ['1', '2', '3'].includes(e.key)) {
      const v = (['graph', 'matrix', 'editor'] as const)[Number(e.key) - 1]!;
      showView(v);
      byId(v === 'editor' ? 'editor' : v)
        .querySelector<HTMLElement>('textarea')
        ?.focus();
      if (v !== 'editor') byId(v).focus();
    }
  });

  status('loading…');
  const cluster = await api.cluster();
  setCluster(cluster);
  follow(cluster.version, { snapshot: (_, changes) => void refresh(changes), drops: (view) => setDrops(view), reconnected: () => void loadDrops() });
  void loadDrops();
  if (!cluster.analysed) return;
  const [first, query] = location.hash.slice(1).split('?', 2) as [string, string | undefined];
  state.view = first === 'matrix' || first === 'editor' ? first : 'graph';
  probeFromLink(new URLSearchParams(query ?? ''));
  await loadReach();
  showView(state.view);
  route();
  document.body.dataset.ready = 'true';
}

/** Takes a cluster summary as the page's; with errors, shows them instead of an analysis. */
function setCluster(cluster: ClusterView): void {
  state.cluster = cluster;
  state.podIndex.clear();
  cluster.pods.forEach((p, i) => state.podIndex.set(`${p.namespace}/${p.name}`, i));
  replace(byId('source'), cluster.source);
  byId('source').title = cluster.source;
  replace(
    byId('pods'),
    cluster.pods.slice(0, 5000).map((p) => h('option', { value: `${p.namespace}/${p.name}` })),
  );
  if (!cluster.analysed) {
    status('the input has errors: nothing is analysed until they are fixed', true);
    replace(
      byId('explain'),
      h(
        'ul',
        { class: 'problems' },
        cluster.diagnostics.map((d) => h('li', { class: d.severity }, `${d.file ?? ''}:${d.line ?? ''}:${d.column ?? ''}: ${d.severity}: ${d.object ?? ''} ${d.path ?? ''} ${d.message}`)),
      ),
    );
    document.body.dataset.ready = 'invalid';
  }
}

/** The recent drops, when serve reads agents (404 otherwise: the section stays hidden). */
async function loadDrops(): Promise<void> {
  try {
    setDrops(await api.drops());
  } catch (e) {
    if (!(e instanceof ApiError) || !/no agents/.test(e.message)) status(`recent drops: ${(e as Error).message}`, true);
  }
}

let refreshing = Promise.resolve();
/** A live cluster changed: re-read the summary and the relation, redraw in place, and say what changed. */
function refresh(changes: readonly string[]): void {
  refreshing = refreshing
    .then(async () => {
      const key = probeKey(state.probe);
      const before = state.cluster && state.reach.get(key) ? { pods: state.cluster.pods, reach: state.reach.get(key)! } : undefined;
      const cluster = await api.cluster();
      const wasReady = document.body.dataset.ready === 'true';
      state.reach.clear();
      state.external.clear();
      state.edited = undefined;
      setCluster(cluster);
      if (!cluster.analysed) return announce(changes, 'the cluster now has objects netpol cannot analyse');
      await loadReach();
      if (!wasReady) {
        showView(state.view);
        document.body.dataset.ready = 'true';
      }
      const after = state.reach.get(key);
      const effect = before && after ? pairChanges(before, { pods: cluster.pods, reach: after }) : undefined;
      announce(changes, effect ? `+${effect.added} −${effect.removed} allowed pairs on ${key}` : `redrawn for ${key}`);
      document.body.dataset.version = String(cluster.version);
    })
    .catch((e: Error) => status(e.message, true));
}

/** For tests and scripts: where an arrow is drawn (page coordinates). Reads only. */
(window as unknown as { netpol: unknown }).netpol = {
  edgePosition: (from: string, to: string) => graph.edgePosition(state.podIndex.get(from) ?? -1, state.podIndex.get(to) ?? -1),
  externalEdgePosition: (pod: string, block: string, outward: boolean) => graph.externalEdgePosition(state.podIndex.get(pod) ?? -1, block, outward),
  nodePosition: (id: string) => graph.nodePosition(id),
  shownPods: () => graph.shownPods().map(podName),
  dropEdge: (from: string, to: string) => graph.dropEdge(from, to),
};

start().catch((e: unknown) => status(e instanceof ApiError ? e.message : `the page failed: ${(e as Error).message}`, true));
