/** Shared by the lab's end-to-end tests: the skip reason, and a check that a lab left nothing behind. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { checkPrerequisites, DEFAULT_STATE_DIR, isLabId } from '../../src/lab/index.js';

/** Why the lab tests cannot run here, or undefined when they can (root, `ip`, `nft`). */
export function labSkipReason(): string | undefined {
  const p = checkPrerequisites(['ip', 'nft']);
  return p.missing.length > 0 ? `the lab needs ${p.missing.join('; ')}` : undefined;
}

/** A fresh lab id for one test (ids are 1-6 characters [a-z0-9]). */
export function testLabId(tag: string): string {
  const id = `${tag}${process.pid.toString(36).slice(-(6 - tag.length))}`;
  if (!isLabId(id)) throw new Error(`bad test lab id ${id}`);
  return id;
}

export interface Leftovers {
  readonly namespaces: string[];
  readonly links: string[];
  readonly stateFile: boolean;
  readonly processes: number[];
}

/** Whatever lab `id` left on the machine: namespaces, interfaces here, its state file, its pod processes. */
export function leftovers(id: string, stateDir = DEFAULT_STATE_DIR): Leftovers {
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`np-${id}-`));
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n.startsWith(`np${id}`));
  const processes: number[] = [];
  const marker = `/lab-${id}/pod.mjs`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) processes.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return { namespaces, links, stateFile: existsSync(`${stateDir}/lab-${id}.json`), processes };
}

export const NOTHING: Leftovers = { namespaces: [], links: [], stateFile: false, processes: [] };
