/**
 * Reads the kernel log from /dev/kmsg: the IO seam of the drop log (src/agent/drops.ts).
 *
 * Design choice: /dev/kmsg opened non-blocking and read with synchronous reads on the main thread, one
 * record per read, until the kernel says there is nothing more (EAGAIN), then again after `pollMs`. A
 * blocking read would hold a thread-pool thread forever and could not be cancelled on stop; an idle poll
 * costs one system call per `pollMs` (100 per second at the default 10 ms), and the delay it adds is at
 * most `pollMs`. Node cannot poll a character device through its event loop (it only watches sockets,
 * pipes and terminals), and a native addon is what the project avoids.
 *
 * The records in the buffer when the reader starts are history and are skipped. A sequence number gap
 * (the kernel's ring overwrote records before they were read; a read then fails with EPIPE and the next
 * one returns the oldest record still there) is reported as lost records.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { parseKmsgRecord, type KmsgRecord } from './kmsg.js';

export interface KernelLogReader {
  /** Starts delivering new records: `record` with when it was logged (Unix ms), `lost` with a count. */
  start(record: (r: KmsgRecord, wallMs: number) => void, lost: (records: number) => void): void;
  stop(): void;
}

export interface KmsgReaderOptions {
  readonly path?: string;
  readonly pollMs?: number;
  /** Records read per turn before yielding to the event loop (default 2000). */
  readonly batch?: number;
}

/** Microseconds on the clock the kernel stamps records with (CLOCK_MONOTONIC, close to the kernel's local clock). */
export function monotonicUsec(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export class KmsgReader implements KernelLogReader {
  private fd: number | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastSeq: number | undefined;
  private readonly buf = Buffer.alloc(8192);
  /** Unix ms minus monotonic ms: turns a record's stamp into wall-clock time. */
  private offsetMs = 0;

  constructor(private readonly opts: KmsgReaderOptions = {}) {}

  start(record: (r: KmsgRecord, wallMs: number) => void, lost: (records: number) => void): void {
    this.fd = openSync(this.opts.path ?? '/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
    this.offsetMs = Date.now() - monotonicUsec() / 1000;
    // History: read and dropped, remembering where it ended.
    this.drain(() => undefined, () => undefined, Infinity);
    const poll = () => {
      this.timer = undefined;
      if (this.fd === undefined) return;
      const more = this.drain(record, lost, this.opts.batch ?? 2000);
      this.timer = setTimeout(poll, more ? 0 : (this.opts.pollMs ?? 10));
    };
    poll();
  }

  /** Reads up to `max` records; true when it stopped because of `max` (more may be waiting). */
  private drain(record: (r: KmsgRecord, wallMs: number) => void, lost: (records: number) => void, max: number): boolean {
    for (let n = 0; n < max; n++) {
      if (this.fd === undefined) return false;
      let size: number;
      try {
        size = readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') return false;
        // Overwritten before read: the next read returns the oldest record left; the gap counts it.
        if (code === 'EPIPE') continue;
        throw e;
      }
      const r = parseKmsgRecord(this.buf.toString('utf8', 0, size));
      if (!r) continue;
      if (this.lastSeq !== undefined && r.seq > this.lastSeq + 1) lost(r.seq - this.lastSeq - 1);
      this.lastSeq = r.seq;
      record(r, this.offsetMs + r.usec / 1000);
    }
    return true;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
