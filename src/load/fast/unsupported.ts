/**
 * How the fast path gives up: `give(why)` throws `Unsupported`, which the loader's entry (load.ts) turns
 * into a hand-over to the reference loader. It never escapes the fast loader.
 */

/** Thrown inside the fast path to give up; never escapes the fast loader. */
export class Unsupported extends Error {}

export function give(why: string): never {
  throw new Unsupported(why);
}
