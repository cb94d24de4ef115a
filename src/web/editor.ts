/**
 * The editor: the loaded policies, one YAML document at a time (a file of 13,000 policies is 13,000
 * documents; the list is filtered, not scrolled through), a new policy from a template, diagnostics
 * at their line and column as the API server would give them, and the edit's effect re-analysed as
 * you type (debounced). Edits live in the page only: nothing is written anywhere; "Download" saves the
 * edited policies as one YAML stream.
 */
import type { Diagnostic, Edit, PolicyDocument } from './api.js';
import { h, replace } from './dom.js';

const TEMPLATE = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: new-policy
  namespace: NAMESPACE
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes:
    - Ingress
  ingress:
    - from:
        - podSelector: {}
      ports:
        - protocol: TCP
          port: 80
`;
const LIST_LIMIT = 200;

interface Doc {
  /** The loaded document's id, or null for a new one. */
  readonly id: string | null;
  readonly label: string;
  readonly original: string;
  text: string;
}

export class Editor {
  private docs: Doc[] = [];
  private current: Doc | undefined;
  private diagnostics: readonly Diagnostic[] = [];
  private newCount = 0;
  private timer: number | undefined;
  private readonly list: HTMLElement;
  private readonly filterInput: HTMLInputElement;
  private readonly area: HTMLTextAreaElement;
  private readonly gutter: HTMLElement;
  private readonly problems: HTMLElement;
  private readonly title: HTMLElement;

  constructor(
    root: HTMLElement,
    private readonly changed: (edits: Edit[]) => void,
    defaultNamespace: () => string,
  ) {
    this.filterInput = h('input', { type: 'search', placeholder: 'filter policies', 'aria-label': 'filter policies', oninput: () => this.renderList() });
    this.list = h('ul', { class: 'doc-list', role: 'listbox', 'aria-label': 'policy documents' });
    this.title = h('p', { class: 'doc-title' });
    this.gutter = h('pre', { class: 'gutter', 'aria-hidden': 'true' });
    this.area = h('textarea', { spellcheck: 'false', 'aria-label': 'policy YAML', wrap: 'off', oninput: () => this.edited() });
    this.area.addEventListener('scroll', () => (this.gutter.scrollTop = this.area.scrollTop));
    this.area.addEventListener('keydown', (e) => {
      // Tab indents (two spaces) rather than leaving the editor; Escape then Tab leaves it.
      if (e.key === 'Tab' && !e.shiftKey && this.area.dataset.escaped !== '1') {
        e.preventDefault();
        this.area.setRangeText('  ', this.area.selectionStart, this.area.selectionEnd, 'end');
        this.edited();
      }
      this.area.dataset.escaped = e.key === 'Escape' ? '1' : '0';
    });
    this.problems = h('ul', { class: 'problems', 'aria-live': 'polite' });
    const newButton = h(
      'button',
      {
        onclick: () => {
          const ns = defaultNamespace();
          const doc: Doc = { id: null, label: `new policy ${++this.newCount}`, original: '', text: TEMPLATE.replace('NAMESPACE', ns) };
          this.docs.push(doc);
          this.open(doc);
          this.edited();
        },
      },
      'New policy',
    );
    const revert = h('button', { onclick: () => this.revert() }, 'Revert document');
    const download = h('button', { onclick: () => this.download() }, 'Download edited policies');
    replace(
      root,
      h('div', { class: 'doc-pane' }, this.filterInput, this.list),
      h('div', { class: 'text-pane' }, h('div', { class: 'toolbar' }, this.title, newButton, revert, download), h('div', { class: 'code' }, this.gutter, this.area), this.problems),
    );
  }

  load(documents: readonly PolicyDocument[]): void {
    this.docs = documents.map((d) => ({ id: d.id, label: `${d.policies.join(', ')}`, original: d.text, text: d.text }));
    this.renderList();
    if (this.docs[0]) this.open(this.docs[0]);
  }

  get edits(): Edit[] {
    return this.docs.filter((d) => d.text !== d.original).map((d) => ({ document: d.id, text: d.text }));
  }

  /** Opens the document holding policy `key` (ns/name) and shows where `line` is. */
  reveal(file: string, line?: number, column?: number): void {
    const doc = this.docs.find((d) => d.id === file || (d.id === null && `new:${this.newIndex(d)}` === file));
    if (!doc) return;
    this.open(doc);
    if (line !== undefined) {
      const lines = doc.text.split('\n');
      const at = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + (column ?? 1) - 1;
      this.area.focus();
      this.area.setSelectionRange(at, at);
    }
  }

  private newIndex(doc: Doc): number {
    return this.edits.findIndex((e) => e.document === null && e.text === doc.text);
  }

  setDiagnostics(ds: readonly Diagnostic[]): void {
    this.diagnostics = ds;
    this.renderProblems();
    this.renderGutter();
    this.renderList();
  }

  private open(doc: Doc): void {
    this.current = doc;
    this.area.value = doc.text;
    replace(this.title, doc.id === null ? doc.label : `${doc.label} (${doc.id.replace(/#\d+$/, '')})`);
    this.renderGutter();
    this.renderProblems();
    this.renderList();
  }

  private edited(): void {
    if (!this.current) return;
    this.current.text = this.area.value;
    this.renderGutter();
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.changed(this.edits), 250);
  }

  private revert(): void {
    if (!this.current) return;
    if (this.current.id === null) this.docs = this.docs.filter((d) => d !== this.current);
    else this.current.text = this.current.original;
    this.open(this.current.id === null ? this.docs[0]! : this.current);
    this.changed(this.edits);
  }

  /** The diagnostics of the document shown (their `file` is its id, or `new:N` by its place among the edits). */
  private mine(): Diagnostic[] {
    const doc = this.current;
    if (!doc) return [];
    const key = doc.id ?? `new:${this.newIndex(doc)}`;
    return this.diagnostics.filter((d) => d.file === key);
  }

  private renderGutter(): void {
    const lines = this.area.value.split('\n').length;
    const marked = new Map(this.mine().map((d) => [d.line ?? 0, d.severity]));
    replace(
      this.gutter,
      Array.from({ length: lines }, (_, i) => h('span', { class: marked.get(i + 1) ?? '' }, `${i + 1}\n`)),
    );
  }

  private renderProblems(): void {
    const mine = this.mine();
    const others = this.diagnostics.length - mine.length;
    replace(
      this.problems,
      mine.map((d) =>
        h(
          'li',
          { class: d.severity },
          h('button', { class: 'link', onclick: () => this.reveal(d.file ?? '', d.line, d.column) }, `${d.line ?? '?'}:${d.column ?? '?'}`),
          ` ${d.severity}: ${d.path ? `${d.path}: ` : ''}${d.message}`,
        ),
      ),
      others > 0 && h('li', { class: 'note' }, `${others} more in other edited documents (marked in the list)`),
      mine.length === 0 && others === 0 && h('li', { class: 'ok' }, 'no problems'),
    );
  }

  private renderList(): void {
    const terms = this.filterInput.value.trim().toLowerCase();
    const bad = new Set(this.diagnostics.filter((d) => d.severity === 'error').map((d) => d.file));
    const matching = this.docs.filter((d) => !terms || d.label.toLowerCase().includes(terms) || d.text.toLowerCase().includes(terms));
    replace(
      this.list,
      matching
        .slice(0, LIST_LIMIT)
        .map((d) =>
          h(
            'li',
            { role: 'option', 'aria-selected': d === this.current ? 'true' : 'false' },
            h(
              'button',
              { class: `doc${d.text !== d.original ? ' edited' : ''}${bad.has(d.id ?? undefined) ? ' invalid' : ''}`, onclick: () => this.open(d) },
              d.label,
              d.text !== d.original ? ' •' : '',
            ),
          ),
        ),
      matching.length > LIST_LIMIT && h('li', { class: 'note' }, `${matching.length - LIST_LIMIT} more: filter to find them`),
    );
  }

  private download(): void {
    const text = this.docs.map((d) => d.text.replace(/\n*$/, '\n')).join('---\n');
    const a = h('a', { href: URL.createObjectURL(new Blob([text], { type: 'application/yaml' })), download: 'networkpolicies.edited.yaml' });
    document.body.append(a);
    a.click();
    a.remove();
  }
}
