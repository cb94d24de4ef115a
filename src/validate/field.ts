/**
 * Field errors the way apimachinery's `field.Error` renders them (k8s.io/apimachinery/pkg/util/validation/field/errors.go).
 *
 * Design choice: each constructor returns a finished Diagnostic whose `message` is exactly what
 * `field.Error.ErrorBody()` prints (the text after "path: "), so nothing downstream re-formats it.
 * Bad values carry their Go rendering: strings through Go's `%q` (strconv.Quote), integers plain,
 * anything else as a pre-rendered Go-syntax string (what `%#v` would print).
 */

import type { Diagnostic } from '../diag/index.js';

/** Kubernetes field ErrorType names, used as diagnostic codes. */
export type FieldErrorType = 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueDuplicate' | 'FieldValueTooLong' | 'FieldValueTooMany';

/** A bad value: a string (printed with %q), an integer (printed plain), or Go syntax printed as is. */
export type BadValue = string | number | { readonly goSyntax: string };

// strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

const SIMPLE_ESCAPES: Readonly<Record<number, string>> = {
  0x07: '\\a',
  0x08: '\\b',
  0x0c: '\\f',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
  0x0b: '\\v',
};

/** Go's strconv.Quote (what `%q` prints for a string). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0xd800 && cp <= 0xdfff) {
      // A lone surrogate cannot reach a Go string: JSON decoding turns it into U+FFFD, which is printable.
      out += '\ufffd';
    } else if (ch === '"' || ch === '\\') {
      out += `\\${ch}`;
    } else if (ch === ' ' || PRINTABLE.test(ch)) {
      out += ch;
    } else if (SIMPLE_ESCAPES[cp] !== undefined) {
      out += SIMPLE_ESCAPES[cp];
    } else if (cp < 0x20 || cp === 0x7f) {
      out += `\\x${cp.toString(16).padStart(2, '0')}`;
    } else if (cp < 0x10000) {
      out += `\\u${cp.toString(16).padStart(4, '0')}`;
    } else {
      out += `\\U${cp.toString(16).padStart(8, '0')}`;
    }
  }
  return `${out}"`;
}

export function renderValue(v: BadValue): string {
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'number') return String(v);
  return v.goSyntax;
}

function diag(code: FieldErrorType, path: string, message: string): Diagnostic {
  return { severity: 'error', code, message, path };
}

/** `field.Invalid`: "Invalid value: <value>: <detail>". */
export function invalid(path: string, value: BadValue, detail: string): Diagnostic {
  return diag('FieldValueInvalid', path, `Invalid value: ${renderValue(value)}${detail ? `: ${detail}` : ''}`);
}

/** `field.Required`: "Required value[: <detail>]". */
export function required(path: string, detail = ''): Diagnostic {
  return diag('FieldValueRequired', path, `Required value${detail ? `: ${detail}` : ''}`);
}

/** `field.Forbidden`: "Forbidden: <detail>". */
export function forbidden(path: string, detail: string): Diagnostic {
  return diag('FieldValueForbidden', path, `Forbidden${detail ? `: ${detail}` : ''}`);
}

/** `field.NotSupported`: `Unsupported value: <value>: supported values: "A", "B"` (in the order given). */
export function notSupported(path: string, value: BadValue, validValues: readonly string[]): Diagnostic {
  const detail = validValues.length > 0 ? `supported values: ${validValues.map(goQuote).join(', ')}` : '';
  return diag('FieldValueNotSupported', path, `Unsupported value: ${renderValue(value)}${detail ? `: ${detail}` : ''}`);
}

/** `field.TooLong`: "Too long: must have at most <n> bytes" (the value is not printed). */
export function tooLong(path: string, maxLength: number): Diagnostic {
  return diag('FieldValueTooLong', path, `Too long: must have at most ${maxLength} bytes`);
}

/** `path.Child(name)`. */
export function child(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

/** `path.Index(i)` (and `path.Key(k)`, which renders the same way). */
export function index(path: string, i: number | string): string {
  return `${path}[${i}]`;
}

/** `field.Duplicate`: "Duplicate value: <value>". */
export function duplicate(path: string, value: BadValue): Diagnostic {
  return diag('FieldValueDuplicate', path, `Duplicate value: ${renderValue(value)}`);
}
