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
  /** `Kind namespace/name` (or `Kind name` for cluster-scoped objects): see `objectLabel`. */
  readonly object?: string;
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

/**
 * The `object` of a diagnostic about this object: `Kind namespace/name`, or `Kind name` for a
 * cluster-scoped one. Code that looks for the diagnostics of an object builds the label from the object
 * with this function and compares; it never parses labels.
 */
export function objectLabel(kind: string, namespace: string | undefined, name: string): string {
  return namespace === undefined ? `${kind} ${name}` : `${kind} ${namespace}/${name}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Fills in object name and file position from the object's source, keeping what the diagnostic already has. */
export function attachSource(d: Diagnostic, object: string | undefined, source: ObjectSource | undefined): Diagnostic {
  let pos: Position | undefined;
  if (source && d.line === undefined) {
    pos = (d.path !== undefined ? source.locate(d.path) : undefined) ?? { line: source.line, column: source.column };
  }
  return {
    ...d,
    ...(d.object === undefined && object !== undefined ? { object } : {}),
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
