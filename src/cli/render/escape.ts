/**
 * The one escaping step every text renderer goes through. Names, labels, annotations and field paths
 * come from manifests and clusters, so they are untrusted: an ESC in a pod name must not clear the
 * reader's screen, a `=` at the start of a CSV cell must not become a spreadsheet formula, a `|` must
 * not split a Markdown table, and nothing from input is ever markup in HTML.
 *
 * Control characters are shown, not dropped, so the reader still sees that the name is odd:
 * C0 (U+0000-U+001F), DEL and C1 (U+0080-U+009F) become `\xHH`; the Unicode bidirectional controls
 * (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), which reorder what a terminal or a page
 * displays, become `\u{HHHH}`; a backslash becomes `\\`, so every escape is unambiguous. Pure: no IO.
 */
import { stringify as stringifyYaml } from 'yaml';

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\\]/g;

function escapeOne(c: string): string {
  if (c === '\\') return '\\\\';
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** Text for a terminal: control and bidi characters shown as escapes. */
export function safeText(s: string): string {
  return s.replace(UNSAFE, escapeOne);
}

// eslint-disable-next-line no-control-regex
const UNSAFE_CONTROLS = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text that already carries escapes of its own (messages quoting values Go-style, `"a\tb"`): control
 * and bidi characters are escaped as safeText escapes them, backslashes are left alone so the message's
 * own escapes still read as the API server prints them.
 */
export function safeMessage(s: string): string {
  return s.replace(UNSAFE_CONTROLS, escapeOne);
}

const RAW_AFTER_JSON = /[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON for a terminal or a pipe: JSON.stringify escapes C0 controls but not DEL, C1 or the bidi
 * controls; those become `\uXXXX` escapes too, which every JSON reader decodes to the same string.
 */
export function safeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(RAW_AFTER_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * YAML (`-o yaml`): plain YAML when every string is safe; otherwise every scalar is double-quoted (the
 * yaml package escapes C0 controls there) and the remaining DEL, C1 and bidi controls become `\uXXXX`
 * escapes, which double-quoted YAML decodes to the same strings.
 */
export function safeYaml(value: unknown): string {
  const plain = stringifyYaml(value);
  if (plain.replace(/\n/g, '').search(UNSAFE_CONTROLS) < 0) return plain;
  return stringifyYaml(value, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'QUOTE_DOUBLE' }).replace(RAW_AFTER_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `-o json` (indented by `indent`) or `-o yaml`, ending with a line break. */
export function structured(value: unknown, format: 'json' | 'yaml', indent?: number): string {
  return format === 'yaml' ? safeYaml(value) : `${safeJson(value, indent)}\n`;
}

/** True when `s` would be printed as it is. */
export function isSafeText(s: string): boolean {
  UNSAFE.lastIndex = 0;
  return !UNSAFE.test(s);
}

/**
 * One CSV field per RFC 4180: quoted when it holds a comma, a quote or a line break (none can after
 * safeText, except the comma and the quote), quotes doubled. A field a spreadsheet would run as a
 * formula (starting with =, +, -, @, tab or carriage return) is prefixed with a single quote, as the
 * OWASP guidance on CSV injection recommends; plain numbers stay numbers.
 */
export function csvField(s: string): string {
  let v = safeText(s);
  if (/^[=+\-@]/.test(v) && !/^[+-]?\d+(\.\d+)?$/.test(v)) v = `'${v}`;
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** A Markdown table cell: safe text with the characters that would end the cell or become markup escaped. */
export function markdownCell(s: string): string {
  return safeText(s)
    .replace(/[|`*_[\]#~]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** Text inside HTML elements or quoted attribute values. */
export function htmlText(s: string): string {
  return safeText(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
