/**
 * Starting the pod processes (podscript.ts) in the pods' namespaces, and talking to them. Each is started
 * detached (its own process group, so a Ctrl-C at the terminal reaches only the lab process, which then
 * tears down in order) and reports `ready` on stdout once its listeners and control socket are up; after
 * that it is reached only through its control socket, `<runDir>/p<index>.sock`.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Protocol } from '../model/index.js';
import { LabError } from './exec.js';
import type { LabLayout, LayoutPod } from './plan.js';
import { POD_SCRIPT } from './podscript.js';

export interface Listener {
  readonly port: number;
  readonly protocol: Protocol;
}

export interface PodProcess {
  readonly pod: LayoutPod;
  readonly pid: number;
  readonly control: string;
}

export function controlPath(runDir: string, pod: LayoutPod): string {
  return join(runDir, `p${pod.index}.sock`);
}

/** What a pod listens on from the start: each container port (TCP and UDP) and the stand-in port. */
export function initialListeners(layout: LabLayout, pod: LayoutPod): Listener[] {
  const ports = new Set(pod.ports.map((p) => p.port));
  if (layout.unnamedPort !== undefined) ports.add(layout.unnamedPort);
  return [...ports]
    .sort((a, b) => a - b)
    .flatMap((port) => [
      { port, protocol: 'TCP' as const },
      { port, protocol: 'UDP' as const },
    ]);
}

function families(pod: LayoutPod): number[] {
  return [...new Set(pod.ips.map((ip) => (ip.includes(':') ? 6 : 4)))].sort();
}

export interface StartOptions {
  readonly ip: string;
  readonly runDir: string;
  /** The pod processes exit by themselves when this process is gone (omit for a lab that outlives its creator). */
  readonly ownerPid?: number;
  readonly readyTimeoutMs?: number;
}

/** Writes the pod program and starts one process per pod; resolves when all are ready. */
export async function startPodProcesses(layout: LabLayout, options: StartOptions, onStarted: (pid: number) => void): Promise<PodProcess[]> {
  const script = join(options.runDir, 'pod.mjs');
  await writeFile(script, POD_SCRIPT, { mode: 0o600 });
  return Promise.all(layout.pods.map((pod) => startOne(layout, pod, script, options, onStarted)));
}

function startOne(layout: LabLayout, pod: LayoutPod, script: string, options: StartOptions, onStarted: (pid: number) => void): Promise<PodProcess> {
  const control = controlPath(options.runDir, pod);
  const config = {
    control,
    families: families(pod),
    listen: initialListeners(layout, pod),
    ...(options.ownerPid !== undefined ? { ownerPid: options.ownerPid } : {}),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(options.ip, ['netns', 'exec', pod.netns, process.execPath, script, JSON.stringify(config)], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid !== undefined) onStarted(child.pid);
    let out = '';
    let err = '';
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new LabError('pod-process', `pod ${pod.key} (namespace ${pod.netns}): ${why}${err.trim() ? `: ${err.trim()}` : ''}`));
    };
    const timer = setTimeout(() => fail('not ready in time'), options.readyTimeoutMs ?? 15_000);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (err += d));
    child.stdout.on('data', (d: string) => {
      out += d;
      if (!settled && out.includes('ready\n')) {
        settled = true;
        clearTimeout(timer);
        // From here on the process is reached through its control socket only.
        child.stdout.destroy();
        child.stderr.destroy();
        child.unref();
        resolve({ pod, pid: child.pid!, control });
      }
    });
    child.on('error', (e) => fail(e.message));
    child.on('exit', (code, signal) => fail(`exited (${signal ?? `code ${code}`}) before it was ready`));
  });
}

interface Pending {
  resolve(v: Record<string, unknown>): void;
  reject(e: Error): void;
}

/** A connection to one pod process's control socket: JSON lines, requests matched by id. */
export class PodClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buffer = '';
  private closed = false;

  private constructor(
    readonly pod: LayoutPod,
    private readonly socket: Socket,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (e) => this.failAll(e));
    socket.on('close', () => this.failAll(new Error('control connection closed')));
  }

  static connect(pod: LayoutPod, path: string): Promise<PodClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once('error', (e) => reject(new LabError('pod-process', `pod ${pod.key}: cannot reach its process at ${path}: ${e.message}`)));
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(new PodClient(pod, socket));
      });
    });
  }

  request(message: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.closed) return Promise.reject(new LabError('pod-process', `pod ${this.pod.key}: its process is gone`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(`${JSON.stringify({ ...message, id })}\n`);
    });
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      const p = this.pending.get(msg.id as number);
      if (!p) continue;
      this.pending.delete(msg.id as number);
      if (msg.ok === true) p.resolve(msg);
      else p.reject(new LabError('pod-process', `pod ${this.pod.key}: ${String(msg.error)}`));
    }
  }

  private failAll(e: Error): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new LabError('pod-process', `pod ${this.pod.key}: ${e.message}`));
    this.pending.clear();
  }
}
