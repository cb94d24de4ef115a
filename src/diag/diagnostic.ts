/**
 * Diagnostics are values. Every problem found in user input (YAML syntax, strict decoding, API-server
 * validation, loader notes) is one of these; nothing in the core throws on bad input. The shape is the
 * one `netpol validate -o json` prints, so renderers never need to reshape it.
 */

import type { DiagnosticCode } from './codes.js';

export type { DiagnosticCode } from './codes.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Position {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
}

export interface Diagnostic {
  readonly severity: Severity;
  /** Stable machine-readable code: one of the table in codes.ts (docs/diagnostics.md). */
  readonly code: DiagnosticCode;
  /** Worded the way the API server words it, without the field path (e.g. `Invalid value: 0: must be between 1 and 65535, inclusive`). */
  readonly message: string;
  /** Kubernetes field path, e.g. `spec.ingress[0].from[1].ipBlock.except[0]`. */
  readonly path?: string;
  /** `Kind namespace/name` (or `Kind name` for cluster-scoped objects): the object's label, for people (`objectLabel`). */
  readonly object?: string;
  /** The same object as a reference, for code that needs to know which object it is about (`ObjectMap`). Set with `object` (`about`, `attachSource`). */
  readonly ref?: ObjectRef;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
}

/** Resolves a Kubernetes field path within one object to its place in the source text. */
export type Locator = (path: string) => Position | undefined;

export interface ObjectSource {
  /** File name as the user gave it (`-` / `<stdin>` for standard input). */
  readonly file: string;
  /** Where the object starts. */
  readonly line: number;
  readonly column: number;
  /** Finds a field path of this object in the source; falls back to the nearest existing ancestor. */
  readonly locate: Locator;
}

/** Which object a diagnostic is about: its kind, its namespace (none for a cluster-scoped object) and its name. */
export interface ObjectRef {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** The `object` of a diagnostic about this object, for people: `Kind namespace/name`, or `Kind name` for a cluster-scoped one. */
export function objectLabel(kind: string, namespace: string | undefined, name: string): string {
  return namespace === undefined ? `${kind} ${name}` : `${kind} ${namespace}/${name}`;
}

/** `d` as a diagnostic about `ref`: its label and its reference, unless it names an object already. */
export function about(d: Diagnostic, ref: ObjectRef): Diagnostic {
  if (d.object !== undefined) return d;
  return { ...d, object: objectLabel(ref.kind, ref.namespace, ref.name), ref: { kind: ref.kind, ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}), name: ref.name } };
}

/**
 * Values by object reference, compared field by field: how code finds the diagnostics of an object
 * (`ObjectMap.of(diagnostics)`: the objects with errors). Labels are never compared or parsed.
 */
export class ObjectMap<V> {
  private readonly byKind = new Map<string, Map<string | undefined, Map<string, number>>>();
  private readonly items: V[] = [];

  /** The objects the diagnostics with `severity` are about, each with its reference. */
  static of(diagnostics: readonly Diagnostic[], severity: Severity = 'error'): ObjectMap<ObjectRef> {
    const out = new ObjectMap<ObjectRef>();
    for (const d of diagnostics) if (d.severity === severity && d.ref && !out.has(d.ref)) out.set(d.ref, d.ref);
    return out;
  }

  get size(): number {
    return this.items.length;
  }

  private index(ref: ObjectRef): number | undefined {
    return this.byKind.get(ref.kind)?.get(ref.namespace)?.get(ref.name);
  }

  get(ref: ObjectRef): V | undefined {
    const i = this.index(ref);
    return i === undefined ? undefined : this.items[i];
  }

  has(ref: ObjectRef): boolean {
    return this.index(ref) !== undefined;
  }

  set(ref: ObjectRef, value: V): void {
    const i = this.index(ref);
    if (i !== undefined) {
      this.items[i] = value;
      return;
    }
    let namespaces = this.byKind.get(ref.kind);
    if (!namespaces) this.byKind.set(ref.kind, (namespaces = new Map()));
    let names = namespaces.get(ref.namespace);
    if (!names) namespaces.set(ref.namespace, (names = new Map()));
    names.set(ref.name, this.items.length);
    this.items.push(value);
  }

  /** The values, in the order their objects were first set. */
  values(): readonly V[] {
    return this.items;
  }
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Fills in the object (`about`) and the file position from the object's source, keeping what the diagnostic already has. */
export function attachSource(d: Diagnostic, object: ObjectRef | undefined, source: ObjectSource | undefined): Diagnostic {
  let pos: Position | undefined;
  if (source && d.line === undefined) {
    pos = (d.path !== undefined ? source.locate(d.path) : undefined) ?? { line: source.line, column: source.column };
  }
  return {
    ...(object ? about(d, object) : d),
    ...(d.file === undefined && source ? { file: source.file } : {}),
    ...(pos ? { line: pos.line, column: pos.column } : {}),
  };
}

/**
 * `file:line:col: severity: [object: ][path: ]message`, the one-line text rendering (compilers' order, so
 * editors can jump to the place). With `label`, `label: file:line:col: ...` instead (kubectl's `Warning:`).
 */
export function formatDiagnostic(d: Diagnostic, label?: string): string {
  const where = d.file !== undefined ? `${d.file}${d.line !== undefined ? `:${d.line}:${d.column ?? 1}` : ''}: ` : '';
  const obj = d.object !== undefined ? `${d.object}: ` : '';
  // Decoding messages already name the field (`unknown field "spec.ingres"`): do not say it twice.
  const path = d.path !== undefined && d.path !== '' && !d.message.includes(`"${d.path}"`) ? `${d.path}: ` : '';
  return label === undefined ? `${where}${d.severity}: ${obj}${path}${d.message}` : `${label}: ${where}${obj}${path}${d.message}`;
}
