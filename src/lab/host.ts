/**
 * What a lab runs outside its own network namespaces (a control plane, agents in cluster mode), listed
 * in `<runDir>/host.json` so that teardown, from any process, stops it: each process is killed only if
 * it is still the one started (same start time), and the listed directories are removed.
 */
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface HostProcesses {
  readonly processes: readonly { readonly pid: number; readonly role: string; readonly start?: string }[];
  readonly dirs: readonly string[];
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export async function writeHostProcesses(runDir: string, h: HostProcesses): Promise<void> {
  const processes = h.processes.map((p) => ({ ...p, start: p.start ?? startTime(p.pid) }));
  await writeFile(join(runDir, 'host.json'), `${JSON.stringify({ processes, dirs: h.dirs }, null, 2)}\n`, { mode: 0o600 });
}

/** Stops what `<runDir>/host.json` lists (SIGTERM, then SIGKILL after 5 s); the pids it ended. */
export async function stopHostProcesses(runDir: string): Promise<number[]> {
  let h: HostProcesses;
  try {
    h = JSON.parse(await readFile(join(runDir, 'host.json'), 'utf8')) as HostProcesses;
  } catch {
    return [];
  }
  const alive = (p: HostProcesses['processes'][number]) => p.start !== undefined && startTime(p.pid) === p.start;
  // Agents first (they would report the API server going away), then the control plane.
  const ordered = [...h.processes].sort((a, b) => Number(b.role.startsWith('agent')) - Number(a.role.startsWith('agent')));
  const ended: number[] = [];
  for (const p of ordered) {
    if (!alive(p)) continue;
    try {
      process.kill(p.pid, 'SIGTERM');
      ended.push(p.pid);
    } catch {
      continue;
    }
    for (let i = 0; i < 100 && alive(p); i++) await new Promise((r) => setTimeout(r, 50));
    if (alive(p)) process.kill(p.pid, 'SIGKILL');
  }
  for (const d of h.dirs) await rm(d, { recursive: true, force: true });
  return ended;
}
