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
import type { Diagnostic } from '../diag/diagnostic.js';
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

export async function readSources(
  paths: readonly string[],
  opts: ReadSourcesOptions,
): Promise<{ sources: SourceText[]; diagnostics: Diagnostic[] }> {
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
    else fail(file, r.tooLarge ? tooLargeMessage(file, maxBytes) : ioMessage(file, r.error));
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
      else fail(STDIN_NAME, r.tooLarge ? tooLargeMessage(STDIN_NAME, maxBytes) : ioMessage(STDIN_NAME, r.error));
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

type ReadResult = { ok: true; text: string } | { ok: false; tooLarge: true } | { ok: false; tooLarge: false; error: unknown };

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
  // Not fatal on bad UTF-8 (replacement characters); a leading BOM is dropped.
  return { ok: true, text: new TextDecoder('utf-8').decode(Buffer.concat(chunks)) };
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
