/**
 * Reads the kernel log from /dev/kmsg: the IO seam of the drop log (src/agent/drops.ts).
 *
 * Design choice: a worker thread drains /dev/kmsg, so the kernel's log buffer (128 KiB by default, about
 * 500 drop records: 50 ms at 10,000 drops/s) is emptied even while the agent's main thread compiles a
 * ruleset, collects garbage or answers a scrape. The worker opens the device non-blocking, reads one
 * record per read until the kernel says there is no more (EAGAIN), sleeps `pollMs` (Atomics.wait: a real
 * sleep, no busy loop) and reads again; it keeps only records that can matter (our prefixes, the rate
 * limiter's reports) and posts them in batches. A blocking read would leave the thread stuck in the
 * kernel on stop; Node cannot watch a character device with its event loop, and a native addon is what
 * the project avoids.
 *
 * The thread raises its own priority (nice -10, that thread only) where the process may (root, or
 * CAP_SYS_NICE; elsewhere it stays as it is): its work per record is small, and it is the one part that
 * must run within 50 ms of a burst, so on a busy node it goes first. What it cannot keep up with is still
 * counted (sequence gaps), never silently missing.
 *
 * The records in the buffer when `start` is called are history and are skipped: `start` reads the log to
 * its end and hands the worker the last sequence number, so a record logged right after `start` returns
 * (the first packets of a ruleset applied then) is new even though the thread is not running yet. A sequence number gap
 * (the kernel overwrote records before they were read; the read then fails with EPIPE and the next one
 * returns the oldest record still there) is reported as lost records.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { parseKmsgRecord, type KmsgRecord } from './kmsg.js';

export interface KernelLogReader {
  /**
   * Starts delivering new records: `record` with when it was logged (Unix ms), `lost` with a count;
   * `failed` when reading stops on an error. Throws when the log cannot be opened.
   */
  start(record: (r: KmsgRecord, wallMs: number) => void, lost: (records: number) => void, failed?: (e: Error) => void): void;
  stop(): void;
}

export interface KmsgReaderOptions {
  readonly path?: string;
  /** Sleep between drains when the log is idle, in ms (default 5). */
  readonly pollMs?: number;
  /** The reading thread's nice value, where the process may raise it (default -10; 0: as the process). */
  readonly nice?: number;
}

/** Microseconds on the clock the kernel stamps records with (CLOCK_MONOTONIC, close to the kernel's local clock). */
export function monotonicUsec(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** The worker: plain JavaScript (it runs without the TypeScript loader), no imports of ours. */
const WORKER = `
const { openSync, readSync, closeSync, constants, readlinkSync } = require('node:fs');
const { setPriority } = require('node:os');
const { parentPort, workerData } = require('node:worker_threads');
const { path, pollMs, stop, nice, after } = workerData;
// This thread only (Linux: a thread id is a pid to setpriority), and only where allowed (CAP_SYS_NICE).
try {
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), nice);
} catch {}
const flag = new Int32Array(stop);
const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
const buf = Buffer.alloc(8192);
// Records up to sequence number after (read by start()) are history; a gap after it is records lost.
let lastSeq = after;
while (Atomics.load(flag, 0) === 0) {
  const records = [];
  let lost = 0;
  for (;;) {
    let size;
    try {
      size = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code === 'EAGAIN') break;
      if (e.code === 'EPIPE') continue;
      throw e;
    }
    const text = buf.toString('utf8', 0, size);
    const c1 = text.indexOf(','), c2 = text.indexOf(',', c1 + 1);
    const seq = Number(text.slice(c1 + 1, c2));
    if (lastSeq !== undefined && seq <= lastSeq) continue;
    if (lastSeq !== undefined && seq > lastSeq + 1) lost += seq - lastSeq - 1;
    lastSeq = seq;
    const semi = text.indexOf(';');
    if (text.startsWith('netpol ', semi + 1) || text.includes('callbacks suppressed')) records.push(text);
    if (records.length >= 1000) break;
  }
  if (records.length > 0 || lost > 0) parentPort.postMessage({ records, lost });
  if (records.length < 1000) Atomics.wait(flag, 0, 0, pollMs);
}
closeSync(fd);
`;

/** The sequence number of the newest record in the kernel log (undefined when it is empty). */
function lastSequence(path: string): number | undefined {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const buf = Buffer.alloc(8192);
  let last: number | undefined;
  try {
    for (;;) {
      let size: number;
      try {
        size = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') return last;
        if (code === 'EPIPE') continue;
        throw e;
      }
      last = parseKmsgRecord(buf.toString('utf8', 0, size))?.seq ?? last;
    }
  } finally {
    closeSync(fd);
  }
}

export class KmsgReader implements KernelLogReader {
  private worker: Worker | undefined;
  private readonly stopFlag = new SharedArrayBuffer(4);

  constructor(private readonly opts: KmsgReaderOptions = {}) {}

  start(record: (r: KmsgRecord, wallMs: number) => void, lost: (records: number) => void, failed?: (e: Error) => void): void {
    const path = this.opts.path ?? '/dev/kmsg';
    // Opened here first, so that no privileges or no device is an error of this call; and read to its
    // end, so that what is logged from now on is new even before the worker thread runs.
    const after = lastSequence(path);
    const offsetMs = Date.now() - monotonicUsec() / 1000;
    const worker = new Worker(WORKER, { eval: true, workerData: { path, pollMs: this.opts.pollMs ?? 5, stop: this.stopFlag, nice: this.opts.nice ?? -10, after } });
    this.worker = worker;
    worker.on('message', (m: { records?: string[]; lost?: number }) => {
      if (m.lost) lost(m.lost);
      for (const text of m.records ?? []) {
        const r = parseKmsgRecord(text);
        if (r) record(r, offsetMs + r.usec / 1000);
      }
    });
    worker.on('error', (e) => failed?.(e));
  }

  /** The worker finishes its drain, closes the device and ends (within one drain and no sleep). */
  stop(): void {
    const flag = new Int32Array(this.stopFlag);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    this.worker?.removeAllListeners('message');
    this.worker = undefined;
  }
}
