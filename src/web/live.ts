/**
 * Following a live cluster: the server's event stream (`/api/v1/events`: hello, snapshot, connection)
 * turned into calls the page acts on, the connection state shown in the header, and what a snapshot
 * changed for the probe on screen (pairs added and removed, matched by pod name, since pods come and go).
 */
import type { PodView, Reach } from './api.js';
import type { DropsView } from './drops.js';
import { byId, h, replace } from './dom.js';

export interface LiveEvents {
  /** A newer snapshot: re-read the data; `changes` names the objects that changed. */
  snapshot(version: number, changes: readonly string[]): void;
  /** The agents' recent drops changed (serve reads agents). */
  drops?(view: DropsView): void;
  /** The stream is back after a loss: what it carried meanwhile may have been missed. */
  reconnected?(): void;
}

interface Hello {
  readonly version: number;
  readonly live: boolean;
  readonly connection: Connection;
}

type Connection = { readonly state: 'connected' } | { readonly state: 'reconnecting'; readonly message: string };

/** Opens the event stream; `version` is the snapshot the page's data came from. */
export function follow(version: number, events: LiveEvents): void {
  let known = version;
  const stream = new EventSource('/api/v1/events');
  let hellos = 0;
  const parse = <T>(e: Event): T => JSON.parse((e as MessageEvent<string>).data) as T;
  stream.addEventListener('hello', (e) => {
    const hello = parse<Hello>(e);
    if (hellos++ > 0) events.reconnected?.();
    if (!hello.live) return;
    show(hello.connection);
    // Connected again after the stream was lost: a snapshot may have been missed.
    if (hello.version !== known) {
      known = hello.version;
      events.snapshot(hello.version, ['the cluster changed while the page was disconnected']);
    }
  });
  stream.addEventListener('snapshot', (e) => {
    const s = parse<{ version: number; changes: string[] }>(e);
    known = s.version;
    events.snapshot(s.version, s.changes);
  });
  stream.addEventListener('connection', (e) => show(parse<Connection>(e)));
  stream.addEventListener('drops', (e) => events.drops?.(parse<DropsView>(e)));
  stream.addEventListener('error', () => {
    if (!byId('live').hidden) show({ state: 'reconnecting', message: 'the page lost its connection to netpol serve; retrying' }, 'server');
  });
}

function show(c: Connection, who: 'cluster' | 'server' = 'cluster'): void {
  const el = byId('live');
  el.hidden = false;
  el.dataset.state = c.state === 'connected' ? 'connected' : `${who}-lost`;
  el.title = c.state === 'connected' ? 'following the cluster' : c.message;
  replace(el, c.state === 'connected' ? '● live' : who === 'server' ? '○ server lost' : '○ reconnecting…');
}

/** Ordered pairs of different pods allowed after and not before (added), and the reverse, by pod name. */
export function pairChanges(before: { pods: readonly PodView[]; reach: Reach }, after: { pods: readonly PodView[]; reach: Reach }, limit = 3000): { added: number; removed: number } | undefined {
  if (before.pods.length > limit || after.pods.length > limit) return undefined;
  const name = (p: PodView) => `${p.namespace}/${p.name}`;
  const old = new Map(before.pods.map((p, i) => [name(p), i]));
  const was = (i: number, j: number): boolean => {
    const a = old.get(name(after.pods[i]!));
    const b = old.get(name(after.pods[j]!));
    return a !== undefined && b !== undefined && before.reach.allowed(a, b);
  };
  let added = 0;
  let kept = 0;
  const n = after.pods.length;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const is = after.reach.allowed(i, j);
      const had = was(i, j);
      if (is && !had) added++;
      else if (had && is) kept++;
    }
  }
  // Removed: allowed before and not kept (denied now, or a pod of the pair is gone).
  let total = 0;
  const m = before.pods.length;
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (i !== j && before.reach.allowed(i, j)) total++;
  return { added, removed: total - kept };
}

/** Adds a line to the list of what changed in the cluster (newest first, a few kept). */
export function announce(changes: readonly string[], effect: string): void {
  const el = byId('changes');
  el.hidden = false;
  const time = new Date().toTimeString().slice(0, 8);
  const shown = changes.slice(0, 5).join(', ') + (changes.length > 5 ? ` and ${changes.length - 5} more` : '');
  const item = h('li', { 'data-effect': effect }, `${time} ${shown || 'the cluster changed'}: ${effect}`);
  const list = el.querySelector('ul') ?? el.appendChild(h('ul', {}));
  list.prepend(item);
  while (list.children.length > 5) list.lastElementChild?.remove();
}
