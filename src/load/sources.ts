/**
 * The IO shell of the loader: `-f PATH` (file, directory, or `-` for stdin), `-R`, read into texts.
 *
 * Design choice: kubectl's manners. A directory contributes its `.yaml`, `.yml` and `.json` files
 * (extensions matched case-sensitively, like kubectl), top level only unless recursive, visited in
 * lexical order (filepath.Walk's order) so the output is deterministic; a file named explicitly is
 * read whatever its extension. Symlinked files are read, symlinked directories are not descended
 * into while walking (as filepath.Walk does), which also rules out cycles. Every file is read through
 * one bounded stream reader, so regular files, FIFOs and stdin share the size limit. Failures are
 * `ReadError` diagnostics; nothing here throws on bad input.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Diagnostic } from '../diag/index.js';
import type { SourceText } from './load.js';

export type { SourceText } from './load.js';

export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
export const STDIN_NAME = '<stdin>';
const EXTENSIONS = ['.yaml', '.yml', '.json'];

export interface ReadSourcesOptions {
  readonly recursive: boolean;
  /** Standard input for `-` (default `process.stdin`). */
  readonly stdin?: NodeJS.ReadableStream | AsyncIterable<string | Buffer>;
  /** Per-file size limit in bytes (default 64 MiB). */
  readonly maxBytes?: number;
}

export async function readSources(paths: readonly string[], opts: ReadSourcesOptions): Promise<{ sources: SourceText[]; diagnostics: Diagnostic[] }> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const sources: SourceText[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  let stdinRead = false;

  const fail = (file: string, message: string): void => {
    diagnostics.push({ severity: 'error', code: 'ReadError', message, file });
  };

  const readOne = async (file: string): Promise<void> => {
    // The same file reached twice (named and inside a directory, say) is read once.
    const real = await realpath(file).catch(() => file);
    if (seen.has(real)) return;
    seen.add(real);
    const r = await readBounded(() => createReadStream(file), maxBytes);
    if (r.ok) sources.push({ file, text: r.text });
    else fail(file, failureMessage(file, r, maxBytes));
  };

  const walk = async (dir: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(dir)).sort(compareNames);
    } catch (e) {
      fail(dir, ioMessage(dir, e));
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      let info;
      try {
        info = await lstat(p);
        if (info.isSymbolicLink()) {
          const target = await stat(p).catch(() => undefined);
          // A dangling link or a link to a directory is skipped, like filepath.Walk does.
          if (!target || target.isDirectory()) continue;
          info = target;
        }
      } catch (e) {
        fail(p, ioMessage(p, e));
        continue;
      }
      if (info.isDirectory()) {
        if (opts.recursive) await walk(p);
        continue;
      }
      if (!EXTENSIONS.some((ext) => name.endsWith(ext))) continue;
      await readOne(p);
    }
  };

  for (const path of paths) {
    if (path === '-') {
      if (stdinRead) continue;
      stdinRead = true;
      const input = opts.stdin ?? process.stdin;
      const r = await readBounded(() => input, maxBytes);
      if (r.ok) sources.push({ file: STDIN_NAME, text: r.text });
      else fail(STDIN_NAME, failureMessage(STDIN_NAME, r, maxBytes));
      continue;
    }
    let info;
    try {
      info = await stat(path);
    } catch (e) {
      fail(path, ioMessage(path, e));
      continue;
    }
    if (info.isDirectory()) await walk(path);
    else await readOne(path);
  }
  return { sources, diagnostics };
}

type ReadResult = { ok: true; text: string } | { ok: false; tooLarge: true } | { ok: false; tooLarge: false; error: unknown } | { ok: false; tooLarge: false; encoding: string };

/** Reads a stream to text, giving up as soon as it exceeds `maxBytes`. */
async function readBounded(open: () => AsyncIterable<string | Buffer> | NodeJS.ReadableStream, maxBytes: number): Promise<ReadResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  let stream: AsyncIterable<string | Buffer> | NodeJS.ReadableStream | undefined;
  try {
    stream = open();
    for await (const chunk of stream as AsyncIterable<string | Buffer>) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      size += buf.length;
      if (size > maxBytes) {
        destroy(stream);
        return { ok: false, tooLarge: true };
      }
      chunks.push(buf);
    }
  } catch (error) {
    if (stream) destroy(stream);
    return { ok: false, tooLarge: false, error };
  }
  return decodeUtf8(Buffer.concat(chunks));
}

/**
 * Manifests are UTF-8, as the API server reads them. A UTF-16 file (a byte-order mark, or the zero
 * bytes of ASCII text in UTF-16) and bytes that are not UTF-8 are errors naming the place, never
 * replacement characters; a leading UTF-8 BOM is dropped.
 */
export function decodeUtf8(bytes: Uint8Array): ReadResult {
  const [b0, b1, b2, b3] = bytes;
  const bom16 = (b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff);
  // ASCII text in UTF-16 without a BOM: every other byte zero.
  const ascii16 = bytes.length >= 4 && ((b0 !== 0 && b1 === 0 && b2 !== 0 && b3 === 0) || (b0 === 0 && b1 !== 0 && b2 === 0 && b3 !== 0));
  if (bom16 || ascii16) return { ok: false, tooLarge: false, encoding: 'the text is UTF-16 encoded; manifests must be UTF-8 (convert it, e.g. with iconv -f UTF-16 -t UTF-8)' };
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    const bad = firstInvalidUtf8(bytes);
    const prefix = new TextDecoder('utf-8').decode(bytes.subarray(0, bad));
    const line = prefix.split('\n').length;
    const column = [...prefix.slice(prefix.lastIndexOf('\n') + 1)].length + 1;
    return { ok: false, tooLarge: false, encoding: `invalid UTF-8 (byte 0x${(bytes[bad] ?? 0).toString(16).padStart(2, '0')}) at line ${line}, column ${column}: manifests must be UTF-8` };
  }
}

/** The offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    // The second byte's range excludes overlong forms, surrogates and code points above U+10FFFF.
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || x < (k === 1 ? lo : 0x80) || x > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return i;
}

function failureMessage(file: string, r: Exclude<ReadResult, { ok: true }>, maxBytes: number): string {
  if (r.tooLarge) return tooLargeMessage(file, maxBytes);
  return 'encoding' in r ? r.encoding : ioMessage(file, r.error);
}

function destroy(stream: unknown): void {
  const s = stream as { destroy?: () => void };
  if (typeof s.destroy === 'function') s.destroy();
}

function compareNames(a: string, b: string): number {
  // Byte-wise order, as Go sorts directory entries.
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return Buffer.compare(ba, bb);
}

function formatBytes(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

function tooLargeMessage(file: string, maxBytes: number): string {
  return `${JSON.stringify(file)} is larger than the input size limit of ${formatBytes(maxBytes)}`;
}

function ioMessage(file: string, e: unknown): string {
  const code = (e as { code?: string } | undefined)?.code;
  switch (code) {
    // kubectl: `the path "x.yaml" does not exist`
    case 'ENOENT':
      return `the path ${JSON.stringify(file)} does not exist`;
    case 'EACCES':
    case 'EPERM':
      return `cannot read ${JSON.stringify(file)}: permission denied`;
    case 'EISDIR':
      return `cannot read ${JSON.stringify(file)}: is a directory`;
    default:
      return `cannot read ${JSON.stringify(file)}: ${e instanceof Error ? e.message : String(e)}`;
  }
}
