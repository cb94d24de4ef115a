/**
 * Validation of a custom resource against its CRD's structural schema, the way the apiextensions API
 * server does it (k8s.io/apiextensions-apiserver/pkg/apiserver/validation, kube-openapi's validators,
 * the CEL `x-kubernetes-validations`), with its wording.
 *
 * Design choice: a schema is small data (object / map / array / string / integer), transcribed from the
 * CRD, and CEL rules are TypeScript predicates next to the CEL text they implement and the CRD's message.
 * One walk produces every error: unknown fields (what strict field validation reports), types, `required`,
 * `enum`, bounds, `pattern`, list-type `set` duplicates, then the CEL rules of every node whose own
 * subtree had no schema error (the server does not run CEL on a value of the wrong shape).
 *
 * Wording, per kube-openapi and apimachinery's field errors (v0.35):
 *   type     `Invalid value: "string": spec.priority in body must be of type integer: "string"`
 *   required `Required value`
 *   enum     `Unsupported value: "Foo": supported values: "Admin", "Baseline"`
 *   minimum  `Invalid value: 1001: spec.priority in body should be less than or equal to 1000`
 *   minItems `Invalid value: 0: spec.ingress[0].from in body should have at least 1 items`
 *   maxItems `Too many: 26: must have at most 25 items`  (maxProperties likewise, `at most 1 item`)
 *   length   `Too long: may not be more than 100 bytes`
 *   pattern  `Invalid value: "a b": <path> in body should match '<pattern>'`
 *   set      `Duplicate value: "10.0.0.0/8"`
 *   CEL      `Invalid value: "1.2.3/8": <the rule's message>` (a string's value), `Invalid value: <message>` (an object)
 *   skipped  `<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; ...`
 * Pure: no IO.
 */
import type { Diagnostic } from '../../diag/index.js';
import { goQuote, notSupported, required } from '../field.js';

/** One `x-kubernetes-validations` entry: the CEL text (for readers), its message, our predicate. */
export interface CelRule {
  readonly rule: string;
  readonly message: string;
  readonly holds: (self: never) => boolean;
}

export type Schema =
  | {
      readonly type: 'object';
      readonly properties: Readonly<Record<string, Schema>>;
      readonly required?: readonly string[];
      readonly minProperties?: number;
      readonly maxProperties?: number;
      readonly rules?: readonly CelRule[];
    }
  /** `additionalProperties` of one schema (matchLabels). */
  | { readonly type: 'map'; readonly values: Schema }
  | {
      readonly type: 'array';
      readonly items: Schema;
      readonly minItems?: number;
      readonly maxItems?: number;
      /** `x-kubernetes-list-type: set`. */
      readonly set?: boolean;
    }
  | {
      readonly type: 'string';
      readonly enum?: readonly string[];
      readonly maxLength?: number;
      /** The CRD's pattern text (printed in errors) and the RegExp that implements it. */
      readonly pattern?: { readonly text: string; readonly re: RegExp };
      /** Filled in before validation when absent (so `required` is met). */
      readonly default?: string;
      readonly rules?: readonly CelRule[];
    }
  | { readonly type: 'integer'; readonly minimum?: number; readonly maximum?: number };

type Json = unknown;

function jsonType(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v === 'boolean' ? 'boolean' : typeof v === 'string' ? 'string' : 'object';
}

function child(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function err(code: Diagnostic['code'], path: string, message: string): Diagnostic {
  return { severity: 'error', code, message, path };
}

/** Go's `%v` of a JSON scalar in an `Invalid value:` (strings quoted, numbers plain). */
function shown(v: Json): string {
  return typeof v === 'string' ? goQuote(v) : typeof v === 'number' ? String(v) : goQuote(jsonType(v));
}

function tooMany(path: string, actual: number, max: number): Diagnostic {
  return err('FieldValueTooMany', path, `Too many: ${actual}: must have at most ${max} ${max === 1 ? 'item' : 'items'}`);
}

/** What one CEL rule found, kept apart from schema errors: the server runs CEL only on a schema-valid object. */
interface Found {
  readonly schema: Diagnostic[];
  readonly duplicates: Diagnostic[];
  readonly cel: Diagnostic[];
}

export const RULES_NOT_CHECKED = 'Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';

/**
 * Validates `value` at `path` against `schema`, the way the apiextensions server does it: unknown fields
 * fail decoding first (nothing else is reported then); the OpenAPI schema and the list types are checked;
 * CEL rules run only when the schema found nothing, otherwise one root error says they were not checked.
 * `rootRules` are the object-level CEL rules (run on the whole object, after the others).
 */
export function validateAgainst(value: Json, schema: Schema, path: string, rootRules: readonly (() => Diagnostic | undefined)[] = []): Diagnostic[] {
  const found: Found = { schema: [], duplicates: [], cel: [] };
  walk(value, schema, path, found);
  const unknown = found.schema.filter((d) => d.code === 'UnknownField');
  if (unknown.length > 0) return unknown;
  if (found.schema.length > 0) return [...found.schema, ...found.duplicates, { severity: 'error', code: 'FieldValueInvalid', message: RULES_NOT_CHECKED, path: '' }];
  const root = rootRules.map((r) => r()).filter((d): d is Diagnostic => d !== undefined);
  return [...found.duplicates, ...found.cel, ...root];
}

/** A CEL rule's error: "Invalid value: <the value>: <message>", the value printed only for scalars. */
export function celError(path: string, value: Json, message: string): Diagnostic {
  const shownValue = typeof value === 'string' || typeof value === 'number' ? `${shown(value)}: ` : '';
  return err('FieldValueInvalid', path, `Invalid value: ${shownValue}${message}`);
}

function walk(v: Json, s: Schema, path: string, found: Found): void {
  const out = found.schema;
  const before = out.length;
  const t = jsonType(v);
  const expected = s.type === 'map' ? 'object' : s.type;
  if (t !== expected) {
    out.push(err('FieldValueTypeInvalid', path, `Invalid value: ${goQuote(t)}: ${path} in body must be of type ${expected}: ${goQuote(t)}`));
    return;
  }
  switch (s.type) {
    case 'object': {
      const o = v as Record<string, Json>;
      const keys = Object.keys(o);
      for (const k of keys) {
        if (!Object.hasOwn(s.properties, k)) out.push(err('UnknownField', child(path, k), `unknown field ${JSON.stringify(child(path, k))}`));
      }
      if (s.maxProperties !== undefined && keys.length > s.maxProperties) out.push(tooMany(path, keys.length, s.maxProperties));
      if (s.minProperties !== undefined && keys.length < s.minProperties) {
        out.push(err('FieldValueInvalid', path, `Invalid value: ${keys.length}: ${path} in body should have at least ${s.minProperties} properties`));
      }
      for (const r of s.required ?? []) {
        const sub = s.properties[r];
        const defaulted = sub?.type === 'string' && sub.default !== undefined;
        if (!Object.hasOwn(o, r) && !defaulted) out.push(required(child(path, r)));
      }
      for (const [k, sub] of Object.entries(s.properties)) if (Object.hasOwn(o, k)) walk(o[k], sub, child(path, k), found);
      break;
    }
    case 'map':
      for (const [k, item] of Object.entries(v as Record<string, Json>)) walk(item, s.values, `${path}[${k}]`, found);
      break;
    case 'array': {
      const a = v as Json[];
      if (s.maxItems !== undefined && a.length > s.maxItems) out.push(tooMany(path, a.length, s.maxItems));
      if (s.minItems !== undefined && a.length < s.minItems) {
        out.push(err('FieldValueInvalid', path, `Invalid value: ${a.length}: ${path} in body should have at least ${s.minItems} items`));
      }
      a.forEach((item, i) => walk(item, s.items, `${path}[${i}]`, found));
      if (s.set) {
        const seen = new Set<string>();
        a.forEach((item, i) => {
          const key = JSON.stringify(item);
          if (seen.has(key)) found.duplicates.push(err('FieldValueDuplicate', `${path}[${i}]`, `Duplicate value: ${shown(item)}`));
          seen.add(key);
        });
      }
      break;
    }
    case 'string': {
      const str = v as string;
      if (s.maxLength !== undefined && [...str].length > s.maxLength) {
        out.push(err('FieldValueTooLong', path, `Too long: may not be more than ${s.maxLength} ${s.maxLength === 1 ? 'byte' : 'bytes'}`));
      }
      if (s.pattern && !s.pattern.re.test(str)) {
        out.push(err('FieldValueInvalid', path, `Invalid value: ${goQuote(str)}: ${path} in body should match '${s.pattern.text}'`));
      }
      if (s.enum && !s.enum.includes(str)) out.push(notSupported(path, str, s.enum));
      break;
    }
    case 'integer': {
      const n = v as number;
      if (s.maximum !== undefined && n > s.maximum) out.push(err('FieldValueInvalid', path, `Invalid value: ${n}: ${path} in body should be less than or equal to ${s.maximum}`));
      if (s.minimum !== undefined && n < s.minimum) out.push(err('FieldValueInvalid', path, `Invalid value: ${n}: ${path} in body should be greater than or equal to ${s.minimum}`));
      break;
    }
  }
  // x-kubernetes-validations, on values whose shape the schema accepted (reported only if the whole object's is).
  const rules = s.type === 'object' || s.type === 'string' ? s.rules : undefined;
  if (rules && out.length === before) {
    for (const r of rules) if (!r.holds(v as never)) found.cel.push(celError(path, v, r.message));
  }
}
