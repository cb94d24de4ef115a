/**
 * The agent's reach into the kernel, behind small interfaces: `NftRunner` (nft) and `Conntrack`
 * (conntrack-tools). The process implementations spawn the real tools; errors become `SystemError`s
 * whose messages say what is missing (the tool, or privileges) instead of a raw errno.
 */
import { spawn } from 'node:child_process';

export class SystemError extends Error {}

export interface NftRunner {
  /** Applies an `nft -f` script as one transaction. */
  apply(script: string): Promise<void>;
  /** `nft -j list table inet <table>` parsed, or undefined when the table does not exist. */
  listTable(table: string): Promise<unknown | undefined>;
  /** Releases what the runner holds open (a persistent nft process); it may be used again afterwards. */
  close?(): void;
  /**
   * Watches the kernel for changes to `table` committed by processes other than this runner's own nft
   * (src/agent/nft-monitor.ts): `onForeign` is told what changed, `onLost` that the watch ended (changes
   * may have been missed since). Runners that cannot watch leave it out: the agent's periodic check
   * remains.
   */
  watch?(table: string, onForeign: (what: string) => void, onLost: (why: string) => void): { close(): void };
}

/** The process ids a runner started most recently: how its own commits are told from others'. */
export class RecentPids {
  private readonly pids: number[] = [];
  constructor(private readonly size = 64) {}
  add(pid: number | undefined): void {
    if (pid === undefined) return;
    this.pids.push(pid);
    if (this.pids.length > this.size) this.pids.shift();
  }
  has(pid: number): boolean {
    return this.pids.includes(pid);
  }
}

export interface Flow {
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  /** Original direction: the side that opened the connection. */
  readonly source: string;
  readonly destination: string;
  readonly sourcePort: number;
  readonly destinationPort: number;
  /** TCP state (`ESTABLISHED`, `TIME_WAIT`, ...); absent for UDP and SCTP. */
  readonly state?: string;
}

export interface Conntrack {
  list(): Promise<Flow[]>;
  /** Deletes every entry of this protocol, source, destination and destination port (any source port). */
  delete(flow: Pick<Flow, 'protocol' | 'source' | 'destination' | 'destinationPort'>): Promise<void>;
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `cmd args`, inside network namespace `netns` when given (`ip netns exec` execs the command: same pid). */
export function inNetns(cmd: string, args: string[], netns: string | undefined): [string, string[]] {
  return netns === undefined ? [cmd, args] : ['ip', ['netns', 'exec', netns, cmd, ...args]];
}

/** Runs `cmd args` (inside network namespace `netns` when given); `started` learns the child's pid. */
function exec(cmd: string, args: string[], input?: string, netns?: string, started?: RecentPids): Promise<Result> {
  return new Promise((resolveP, reject) => {
    const [file, argv] = inNetns(cmd, args, netns);
    const child = spawn(file, argv, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    started?.add(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') reject(new SystemError(`${cmd} not found: install ${cmd === 'nft' ? 'nftables' : cmd === 'conntrack' ? 'conntrack (conntrack-tools)' : cmd}`));
      else reject(new SystemError(`${cmd}: ${e.message}`));
    });
    child.on('close', (code) => resolveP({ code: code ?? 1, stdout, stderr }));
    if (input !== undefined && child.stdin) {
      // A tool that exits before reading all its input (an early error) closes the pipe: its exit code
      // and stderr tell what happened, so the write error itself is not news.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

/** The error to report when `cmd` failed for lack of privileges, judging by its stderr. */
export function privileges(cmd: string, stderr: string): SystemError | undefined {
  return /Operation not permitted|Permission denied/i.test(stderr) ? new SystemError(`${cmd}: missing privileges (run as root, or with CAP_NET_ADMIN): ${stderr.trim()}`) : undefined;
}

export class ProcessNft implements NftRunner {
  /** The nft processes this runner started (their commits are its own). */
  readonly started = new RecentPids();
  /** `netns`: act on that network namespace instead of the process's own. */
  constructor(private readonly netns?: string) {}

  async apply(script: string): Promise<void> {
    const r = await exec('nft', ['-f', '-'], script, this.netns, this.started);
    if (r.code !== 0) throw privileges('nft', r.stderr) ?? new SystemError(`nft -f failed: ${r.stderr.trim()}`);
  }

  async listTable(table: string): Promise<unknown | undefined> {
    const r = await exec('nft', ['-j', 'list', 'table', 'inet', table], undefined, this.netns, this.started);
    if (r.code !== 0) {
      const p = privileges('nft', r.stderr);
      if (p) throw p;
      if (/No such file or directory|does not exist/i.test(r.stderr)) return undefined;
      throw new SystemError(`nft list table failed: ${r.stderr.trim()}`);
    }
    return JSON.parse(r.stdout) as unknown;
  }
}

const PROTOCOLS: Record<string, Flow['protocol']> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' };

/** Parses `conntrack -L` lines: the first src/dst/sport/dport of a line are the original direction. */
export function parseConntrack(text: string): Flow[] {
  const flows: Flow[] = [];
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/);
    const proto = PROTOCOLS[tokens[0] ?? ''];
    if (!proto) continue;
    // `tcp 6 TIMEOUT STATE src=...`: TCP lines carry the state as the fourth token.
    const state = proto === 'TCP' && tokens[3] && !tokens[3].includes('=') ? tokens[3] : undefined;
    const field = (k: string) => new RegExp(`\\b${k}=(\\S+)`).exec(line)?.[1];
    const [src, dst, sport, dport] = [field('src'), field('dst'), field('sport'), field('dport')];
    if (!src || !dst || !sport || !dport) continue;
    flows.push({ protocol: proto, source: src, destination: dst, sourcePort: Number(sport), destinationPort: Number(dport), ...(state ? { state } : {}) });
  }
  return flows;
}

export class ProcessConntrack implements Conntrack {
  /** `netns`: act on that network namespace instead of the process's own. */
  constructor(private readonly netns?: string) {}

  async list(): Promise<Flow[]> {
    // One listing per family (older conntrack-tools list only IPv4 without -f), both at once.
    const runs = await Promise.all(['ipv4', 'ipv6'].map((family) => exec('conntrack', ['-L', '-f', family], undefined, this.netns)));
    const out: Flow[] = [];
    for (const r of runs) {
      if (r.code !== 0) throw privileges('conntrack', r.stderr) ?? new SystemError(`conntrack -L failed: ${r.stderr.trim()}`);
      out.push(...parseConntrack(r.stdout));
    }
    return out;
  }

  async delete(f: Pick<Flow, 'protocol' | 'source' | 'destination' | 'destinationPort'>): Promise<void> {
    const args = ['-D', '-p', f.protocol.toLowerCase(), '-s', f.source, '-d', f.destination, '--dport', String(f.destinationPort)];
    const r = await exec('conntrack', args, undefined, this.netns);
    // Exit 1 with "0 flow entries have been deleted" just means it was already gone.
    if (r.code !== 0 && !/0 flow entries/.test(r.stderr)) throw privileges('conntrack', r.stderr) ?? new SystemError(`conntrack -D failed: ${r.stderr.trim()}`);
  }
}
