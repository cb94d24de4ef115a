/**
 * Strict decoding of a positioned YAML tree against a declared shape, the way the API server decodes a
 * request body with server-side field validation `Strict`.
 *
 * Design choice: shapes are small data (struct / list / map / scalar, with the Go type names of the real
 * API types) rather than hand-written decoders per kind, so the same walk produces unknown-field and
 * type errors with Kubernetes field paths and file positions for every kind. Wording follows the API
 * server: unknown fields as `unknown field "spec.ingres"` (sigs.k8s.io/json strict errors, paths with list
 * indices), type mismatches as Go's encoding/json reports them, e.g.
 * `cannot unmarshal bool into Go struct field LabelSelector.spec.podSelector.matchLabels of type string`
 * (the API server prefixes `json: `; we keep that prefix out like the `strict decoding error: ` prefix).
 * Go's message names the struct and the field path without indices or map keys; our `path` carries both.
 *
 * Every kind is decoded strictly; structs of which netpol declares only the fields it reads (a PodSpec,
 * a container, a workload's spec, a status) are `open`: their other fields are not reported, the
 * declared ones are checked all the same.
 */
import type { Diagnostic, Position } from '../diag/index.js';
import type { PNode } from './yaml.js';

export type Shape =
  | { readonly t: 'string'; readonly go: string }
  | { readonly t: 'int'; readonly go: 'int32' | 'int64' }
  | { readonly t: 'bool' }
  /** intstr.IntOrString: a JSON string, or a number decoded into an int32. */
  | { readonly t: 'intOrString' }
  /** Any JSON value, kept as is (e.g. managedFields[].fieldsV1). */
  | { readonly t: 'any' }
  /** `open`: the API type has fields not declared here; strict decoding does not report them (yet checks the declared ones). */
  | { readonly t: 'struct'; readonly go: string; readonly fields: Readonly<Record<string, Shape>>; readonly open?: boolean }
  | { readonly t: 'list'; readonly of: Shape }
  | { readonly t: 'map'; readonly of: Shape };

export const str = (go = 'string'): Shape => ({ t: 'string', go });
export const int32: Shape = { t: 'int', go: 'int32' };
export const int64: Shape = { t: 'int', go: 'int64' };
export const bool: Shape = { t: 'bool' };
export const intOrString: Shape = { t: 'intOrString' };
export const anyJSON: Shape = { t: 'any' };
export const struct = (go: string, fields: Record<string, Shape>): Shape => ({ t: 'struct', go, fields });
/** A struct of which only some fields are declared (see Shape). */
export const openStruct = (go: string, fields: Record<string, Shape>): Shape => ({ t: 'struct', go, fields, open: true });
export const list = (of: Shape): Shape => ({ t: 'list', of });
export const map = (of: Shape): Shape => ({ t: 'map', of });

/** The Go type as encoding/json prints it in an UnmarshalTypeError. */
export function goTypeName(s: Shape): string {
  switch (s.t) {
    case 'string':
      return s.go;
    case 'int':
      return s.go;
    case 'bool':
      return 'bool';
    case 'intOrString':
      return 'int32';
    case 'any':
      return 'interface {}';
    case 'struct':
      return s.go;
    case 'list':
      return `[]${goTypeName(s.of)}`;
    case 'map':
      return `map[string]${goTypeName(s.of)}`;
  }
}

export interface DecodeOptions {
  /** Report fields the shape does not declare (`UnknownField`). */
  readonly strict: boolean;
}

export interface DecodeResult {
  /** The decoded value; fields with wrong types are left out, `null`s are absent. */
  readonly value: unknown;
  readonly diagnostics: readonly Diagnostic[];
}

interface Where {
  /** Kubernetes field path (`spec.ingress[0].ports[1].endPort`, `metadata.labels[app]`). */
  readonly path: string;
  /** Go's view: the innermost struct and its field path without indices / keys. */
  readonly goStruct: string;
  readonly goField: string;
  /** Position of the key (for a map entry) or the item (for a list element). */
  readonly at: Position;
}

const INT_RANGE = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int64: [-(2 ** 63), 2 ** 63 - 1],
} as const;

/** Decodes `root` (an object: the shape must be a struct) into a plain value. Pure, never throws. */
export function decodeObject(root: PNode, shape: Shape, opts: DecodeOptions): DecodeResult {
  const diagnostics: Diagnostic[] = [];
  const goName = shape.t === 'struct' ? shortName(shape.go) : '';
  const value = decodeValue(root, shape, { path: '', goStruct: goName, goField: '', at: { line: root.line, column: root.column } }, opts, diagnostics);
  return { value, diagnostics };
}

function decodeValue(node: PNode, shape: Shape, where: Where, opts: DecodeOptions, out: Diagnostic[]): unknown {
  if (node.kind === 'scalar' && node.value === null) return undefined;
  switch (shape.t) {
    case 'any':
      return plain(node);
    case 'string':
      if (node.kind === 'scalar' && typeof node.value === 'string') return node.value;
      return typeError(node, shape, where, out);
    case 'bool':
      if (node.kind === 'scalar' && typeof node.value === 'boolean') return node.value;
      return typeError(node, shape, where, out);
    case 'int': {
      if (node.kind === 'scalar' && typeof node.value === 'number') {
        const [lo, hi] = INT_RANGE[shape.go];
        if (Number.isInteger(node.value) && node.value >= lo && node.value <= hi) return node.value;
      }
      return typeError(node, shape, where, out);
    }
    case 'intOrString': {
      if (node.kind === 'scalar' && typeof node.value === 'string') return node.value;
      if (node.kind === 'scalar' && typeof node.value === 'number') {
        const [lo, hi] = INT_RANGE.int32;
        if (Number.isInteger(node.value) && node.value >= lo && node.value <= hi) return node.value;
      }
      return typeError(node, shape, where, out);
    }
    case 'list': {
      if (node.kind !== 'seq') return typeError(node, shape, where, out);
      const items: unknown[] = [];
      node.items.forEach((item, i) => {
        const at = { line: item.line, column: item.column };
        // encoding/json decodes a `null` list element into the element type's zero value.
        const v = item.kind === 'scalar' && item.value === null ? zeroValue(shape.of) : decodeValue(item, shape.of, { ...where, path: `${where.path}[${i}]`, at }, opts, out);
        if (v !== undefined) items.push(v);
      });
      return items;
    }
    case 'map': {
      if (node.kind !== 'map') return typeError(node, shape, where, out);
      const result: Record<string, unknown> = {};
      for (const e of node.entries) {
        const at = { line: e.line, column: e.column };
        const v = e.value.kind === 'scalar' && e.value.value === null ? zeroValue(shape.of) : decodeValue(e.value, shape.of, { ...where, path: `${where.path}[${e.key}]`, at }, opts, out);
        if (v !== undefined) setProp(result, e.key, v);
      }
      return result;
    }
    case 'struct': {
      if (node.kind !== 'map') return typeError(node, shape, where, out);
      const result: Record<string, unknown> = {};
      const goStruct = shortName(shape.go);
      for (const e of node.entries) {
        const path = where.path === '' ? e.key : `${where.path}.${e.key}`;
        const at = { line: e.line, column: e.column };
        const fieldShape = Object.hasOwn(shape.fields, e.key) ? shape.fields[e.key] : undefined;
        if (fieldShape === undefined) {
          if (opts.strict && shape.open !== true) {
            out.push({ severity: 'error', code: 'UnknownField', message: `unknown field ${JSON.stringify(path)}`, path, ...at });
          }
          continue;
        }
        const goField = where.goField === '' ? e.key : `${where.goField}.${e.key}`;
        const v = decodeValue(e.value, fieldShape, { path, goStruct, goField, at }, opts, out);
        if (v !== undefined) setProp(result, e.key, v);
      }
      return result;
    }
  }
}

function typeError(node: PNode, shape: Shape, where: Where, out: Diagnostic[]): undefined {
  const target = goTypeName(shape);
  const numericTarget = shape.t === 'int' || shape.t === 'intOrString';
  let got: string;
  if (node.kind === 'map') got = 'object';
  else if (node.kind === 'seq') got = 'array';
  else if (typeof node.value === 'string') got = 'string';
  else if (typeof node.value === 'boolean') got = 'bool';
  else got = numericTarget ? `number ${goNumber(node.value as number)}` : 'number';
  const into = where.goField === '' ? `Go value` : `Go struct field ${where.goStruct}.${where.goField}`;
  out.push({
    severity: 'error',
    code: 'FieldValueTypeInvalid',
    message: `cannot unmarshal ${got} into ${into} of type ${target}`,
    path: where.path,
    ...where.at,
  });
  return undefined;
}

/** A number as it appears in the JSON kubectl sends (Go's float formatting for non-integers). */
function goNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  return String(n);
}

function zeroValue(s: Shape): unknown {
  switch (s.t) {
    case 'string':
      return '';
    case 'int':
      return 0;
    case 'bool':
      return false;
    case 'struct':
      return {};
    default:
      return undefined;
  }
}

/** Defines an own property even for keys like `__proto__` (label keys are user data). */
export function setProp(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function shortName(go: string): string {
  const i = go.lastIndexOf('.');
  return i < 0 ? go : go.slice(i + 1);
}

/** The plain JSON value of a subtree. */
export function plain(node: PNode): unknown {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(plain);
    case 'map': {
      const o: Record<string, unknown> = {};
      for (const e of node.entries) setProp(o, e.key, plain(e.value));
      return o;
    }
  }
}
