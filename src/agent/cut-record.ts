/**
 * The durable half of cutting revoked connections. The rules go into the kernel in one transaction and
 * the conntrack check runs after it: an agent killed between the two leaves connections open that the
 * rules in the kernel deny, and a restarted agent that finds the kernel equal to its manifests has no
 * change to run the check for. So the check's completion is recorded: after a check has run for a
 * ruleset, the record holds that ruleset's digest. A starting agent whose kernel ruleset is not the one
 * recorded (no record, another ruleset, another network namespace, a record it cannot read) runs the
 * check before it reports the snapshot applied.
 *
 * Why a digest of the checked ruleset rather than a "pending/done" flag written around the transaction:
 * the record is written once per check, after it, and a lost or failed write can only cause one check
 * too many on restart, never one too few. Durability: the agent's crash, not the machine's: a reboot
 * empties conntrack too (and /run, the default home).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readlink, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderRuleset, type Ruleset } from '../nft/index.js';

export interface CutRecord {
  /** The digest of the ruleset whose conntrack check last completed, if known. */
  read(): Promise<string | undefined>;
  write(digest: string): Promise<void>;
}

/**
 * The ruleset's identity for the record: its nft text without the table's and chains' comments (not
 * part of a ruleset's comparison). Only compiled rulesets are digested, never ones read back.
 */
export function rulesetDigest(r: Ruleset): string {
  const { comment: _table, ...rest } = r;
  const bare: Ruleset = { ...rest, chains: r.chains.map(({ comment: _chain, ...c }) => c) };
  return createHash('sha256').update(renderRuleset(bare)).digest('hex');
}

/** The network namespace this process runs in (`net:[4026531840]`), so that records of agents in other namespaces do not count. */
async function netnsId(): Promise<string> {
  return readlink('/proc/self/ns/net').catch(() => 'unknown');
}

/** `DIR/<table>.cut`: the network namespace and the digest, one line each; replaced by a rename. */
export class FileCutRecord implements CutRecord {
  private readonly file: string;

  constructor(
    private readonly dir: string,
    table: string,
  ) {
    this.file = join(dir, `${table}.cut`);
  }

  async read(): Promise<string | undefined> {
    const text = await readFile(this.file, 'utf8').catch(() => undefined);
    const [netns, digest] = text?.split('\n') ?? [];
    return netns === (await netnsId()) && digest ? digest : undefined;
  }

  async write(digest: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const staged = `${this.file}.${process.pid}.tmp`;
    await writeFile(staged, `${await netnsId()}\n${digest}\n`, { mode: 0o600 });
    await rename(staged, this.file);
  }
}
