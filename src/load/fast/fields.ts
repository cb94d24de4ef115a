/**
 * Field checks of the fast decoder, on the plain values the subset reader (or `JSON.parse`) built: each
 * accepts exactly what the reference decoder (src/load/kinds.ts) would take without a diagnostic and
 * gives up on anything else (a wrong type, an unknown key, a null where the decoder would drop or
 * default it), so the reference loader can report it.
 */
import { give } from './unsupported.js';

export type Rec = Record<string, unknown>;

export function isRec(v: unknown): v is Rec {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A string field (null = absent); anything else gives up. */
export function str(o: Rec, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') give(`${key} is not a string`);
  return v;
}

export function int32(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v > 2 ** 31 - 1) give(`${what} is not an int32`);
  return v;
}

export function strMap(v: unknown, what: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRec(v)) give(`${what} is not a map`);
  // `for in` also visits inherited keys: that could only make the fast path give up, never err.
  for (const k in v) {
    if (v[k] === null) give(`${what}.${k} is null`); // decodes to "" in Go; left to the reference loader
    if (typeof v[k] !== 'string') give(`${what}.${k} is not a string`);
  }
  return v as Record<string, string>;
}

export function list(v: unknown, what: string): unknown[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) give(`${what} is not a list`);
  for (const x of v) if (x === null) give(`a null item in ${what}`);
  return v;
}

export function onlyKeys(o: Rec, allowed: ReadonlySet<string>, what: string): void {
  // `for in` also visits inherited keys: that could only make the fast path give up, never err.
  for (const k in o) if (!allowed.has(k)) give(`unknown field ${what}.${k}`);
}

export function strList(v: unknown, what: string): string[] | undefined {
  const l = list(v, what);
  if (l) for (const x of l) if (typeof x !== 'string') give(`${what} is not a list of strings`);
  return l as string[] | undefined;
}

/**
 * The fields that are present (null = absent), in source order, as the reference decoder gives them:
 * `o` itself, its values replaced in place by `f`'s, when none is null (the plain values are this
 * module's own, met once). Unknown keys must have been refused before.
 */
export function present(o: Rec, f: (k: string, v: unknown) => unknown): Rec {
  const keys = Object.keys(o);
  let nulls = false;
  for (const k of keys) {
    if (o[k] === null || o[k] === undefined) {
      nulls = true;
      break;
    }
  }
  if (!nulls) {
    for (const k of keys) o[k] = f(k, o[k]);
    return o;
  }
  const out: Rec = {};
  for (const k of keys) {
    const v = o[k];
    if (v === undefined || v === null) continue;
    out[k] = f(k, v);
  }
  return out;
}

/** `list.map(f)`, in place (the list is this module's own). */
export function mapped<T>(list: unknown[], f: (x: unknown) => T): T[] {
  for (let i = 0; i < list.length; i++) list[i] = f(list[i]);
  return list as T[];
}
