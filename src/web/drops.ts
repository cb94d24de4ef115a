/**
 * Recent drops on the page: the "Recent drops" list (with the agents' states), the note above an
 * explanation opened from a drop, and the drops as the graph draws them (red arrows, amber dashed for
 * audit). The server folds the agents' events onto the snapshot's pods and address blocks
 * (src/server/drops.ts); this side only draws. Everything in an event came from a cluster or a kernel
 * log: it is text (dom.ts), never markup.
 */
import type { AgentStatus, DropEnd, DropPair, DropsView, DropView } from '../server/drops-view.js';
import { byId, h, replace } from './dom.js';

export type { DropPair, DropsView, DropView, DropEnd };

/** What an explanation opened from a drop shows above the verdict, and checks the verdict against. */
export interface DropContext {
  readonly action: 'deny' | 'audit';
  readonly from: DropEnd;
  readonly to: DropEnd;
  readonly protocol: string;
  readonly port?: number;
  readonly time: string;
  /** For one event: its node, direction, policies and reason; a pair folds several. */
  readonly event?: DropView;
  readonly pair?: DropPair;
}

/** NetworkPolicy names ports of TCP, UDP and SCTP only: other drops have nothing for `check` to answer. */
export function checkable(c: { protocol: string; port?: number }): boolean {
  return (c.protocol === 'TCP' || c.protocol === 'UDP' || c.protocol === 'SCTP') && c.port !== undefined;
}

export function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toTimeString().slice(0, 8);
}

const portText = (c: { protocol: string; port?: number; icmpType?: number }) =>
  c.port !== undefined ? `${c.protocol}/${c.port}` : c.icmpType !== undefined ? `${c.protocol} type ${c.icmpType}` : c.protocol;
const verb = (action: 'deny' | 'audit') => (action === 'audit' ? 'would be denied (audit)' : 'denied');

function agentLine(a: AgentStatus): HTMLElement {
  const who = a.node !== undefined ? `node ${a.node} (${a.name})` : a.name;
  const text =
    a.state === 'ok'
      ? `● ${who}`
      : a.state === 'waiting'
        ? `○ ${who}: asking…`
        : `○ ${who} unreachable: ${a.message ?? 'no answer'}${a.retryInMs !== undefined ? `; retrying in ${Math.ceil(a.retryInMs / 1000)} s` : ''}`;
  const extra = [a.missed > 0 && `${a.missed} events pushed out of its log before they were read`, a.rejected > 0 && `${a.rejected} malformed events left out`].filter(Boolean).join('; ');
  return h('li', { class: `agent ${a.state}`, 'data-state': a.state, 'data-agent': a.name }, text, extra && h('span', { class: 'note' }, ` (${extra})`));
}

/** The "Recent drops" section: agents, then events newest first, each a button that explains it. */
export function renderDrops(view: DropsView, open: (c: DropContext) => void): void {
  const el = byId('drops');
  el.hidden = false;
  const minutes = Math.round(view.windowMs / 60_000);
  const shown = view.events.slice(0, 50);
  replace(
    el,
    h('h2', {}, 'Recent drops'),
    h('ul', { class: 'agents' }, view.agents.map(agentLine)),
    view.events.length === 0
      ? h('p', { class: 'note' }, `No drops in the last ${minutes} minutes.`)
      : h(
          'ul',
          { class: 'drop-list' },
          shown.map((e) =>
            h(
              'li',
              { class: `drop ${e.action}`, 'data-action': e.action, 'data-from': e.from.name, 'data-to': e.to.name },
              h(
                'button',
                { class: 'link', onclick: () => open({ action: e.action, from: e.from, to: e.to, protocol: e.protocol, ...(e.port !== undefined ? { port: e.port } : {}), time: e.time, event: e }) },
                `${clock(e.time)} ${e.from.name} → ${e.to.name} ${portText(e)} ${verb(e.action)}`,
              ),
              h(
                'span',
                { class: 'note detail' },
                `${e.direction} of ${e.direction === 'ingress' ? e.to.name : e.from.name}, ${e.policies.length > 0 ? e.policies.join(', ') : e.chain}${e.packets > 1 ? ` (${e.packets} packets)` : ''} · node ${e.node}`,
              ),
            ),
          ),
        ),
    view.kept > shown.length && h('p', { class: 'note' }, `${shown.length} of ${view.kept} kept events listed (the last ${minutes} minutes, at most ${view.capacity}); every one is on the graph`),
  );
}

/** What `check` answered, as far as the note needs it (with audit-mode policies: what is enforced today). */
export interface CheckedAnswer {
  readonly allowed: boolean;
  readonly audit?: { readonly today: { readonly allowed: boolean }; readonly by: readonly { readonly namespace: string; readonly name: string }[] };
}

/**
 * Whether the loaded policies agree with the agent: a drop is denied by what is enforced today; an
 * audit event is denied by the policies as written (audit-mode ones enforcing), which is check's verdict.
 */
export function reproduces(c: DropContext, a: CheckedAnswer): boolean {
  return c.action === 'audit' ? !a.allowed : !(a.audit ? a.audit.today.allowed : a.allowed);
}

/** The note above an explanation opened from a drop: what the agent saw, and whether the loaded policies agree. */
export function dropNote(c: DropContext, answer: CheckedAnswer | undefined): HTMLElement {
  const e = c.event;
  const what = c.pair
    ? `${c.pair.denied > 0 ? `${c.pair.denied} denied` : ''}${c.pair.denied > 0 && c.pair.audited > 0 ? ', ' : ''}${c.pair.audited > 0 ? `${c.pair.audited} would be denied (audit)` : ''} on ${c.pair.ports.join(', ')}, the last at ${clock(c.time)}`
    : `${verb(c.action)} at ${clock(c.time)} on node ${e?.node ?? '?'}: ${e?.direction} of ${e?.direction === 'ingress' ? c.to.name : c.from.name}, ${e?.policies.length ? e.policies.join(', ') : e?.chain}, ${e?.reason}${e && e.packets > 1 ? ` (${e.packets} packets)` : ''}`;
  const agrees = answer && reproduces(c, answer);
  const staged = answer?.audit && answer.audit.by.length > 0 ? answer.audit.by.map((p) => `${p.namespace}/${p.name}`).join(', ') : undefined;
  const command = `netpol check --from ${c.from.check} --to ${c.to.check} --port ${c.port} --protocol ${c.protocol}`;
  return h(
    'section',
    { class: `drop-note ${c.action}${agrees === false ? ' mismatch' : ''}`, 'data-reproduced': agrees === undefined ? 'n/a' : String(agrees) },
    h('p', {}, h('strong', {}, c.action === 'audit' ? 'Audit event' : 'Drop'), `: ${c.from.name} → ${c.to.name} ${portText(c)} ${what}`),
    !checkable(c) && h('p', { class: 'note' }, `NetworkPolicy names TCP, UDP and SCTP ports only: there is no ${c.protocol} question for netpol check.`),
    agrees === false &&
      h(
        'p',
        { class: 'warning' },
        c.action === 'audit'
          ? 'The loaded policies ALLOW this connection even with the audit-mode policies enforcing: the cluster changed since the event, or this page shows files, not the cluster the agent enforces.'
          : 'The loaded policies ALLOW this connection: the cluster changed since the drop, or this page shows files, not the cluster the agent enforces.',
      ),
    staged && h('p', { class: 'note' }, `Audit mode: ${answer?.audit?.today.allowed ? 'allowed today' : 'denied today'}; ${staged} would change that when enforced.`),
    agrees === true && h('p', { class: 'note' }, `${command} gives the same verdict:`),
    agrees === false && h('p', { class: 'note' }, `${command} answers:`),
  );
}
