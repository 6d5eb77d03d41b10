// Rounds of bench/fuse-peers.ts: the order each round measures the FUSE peers in, and the
// medians over the rounds it reports. Pure, so the tests check them without a mount.
import { median } from './run.js';

export type Row = Record<string, number>;

/** One round: the peers in the order measured (native first), and each one's numbers. */
export interface Round {
  readonly order: readonly string[];
  readonly rows: ReadonlyMap<string, Row>;
}

/**
 * The FUSE peers' order in round `r` (from 0): the list rotated to start at peer r mod k, so
 * over k rounds each peer is measured once in every place (the later place meets a busier disk).
 */
export function rotated<T>(peers: readonly T[], r: number): T[] {
  const k = peers.length;
  if (k === 0) return [];
  const s = r % k;
  return [...peers.slice(s), ...peers.slice(0, s)];
}

/**
 * Per peer and workload: the median over the rounds of the peer's ratio to the same round's
 * `base` (a round's load moves native too, so a ratio within a round is the steadier number),
 * and the median of the raw numbers. Every round measured every peer and workload of the first
 * round's `base`.
 */
export function medians(
  rounds: readonly Round[],
  names: readonly string[],
  base = 'native',
): { raw: Record<string, Row>; ratios: Record<string, Row> } {
  const value = (r: Round, name: string, k: string): number => {
    const v = r.rows.get(name)?.[k];
    if (v === undefined) throw new Error(`round without ${name}'s ${k}`);
    return v;
  };
  const keys = Object.keys(rounds[0]?.rows.get(base) ?? {});
  const raw: Record<string, Row> = {};
  const ratios: Record<string, Row> = {};
  for (const name of names) {
    const r: Row = {};
    const q: Row = {};
    for (const k of keys) {
      r[k] = median(rounds.map((x) => value(x, name, k)));
      q[k] = median(rounds.map((x) => value(x, name, k) / value(x, base, k)));
    }
    raw[name] = r;
    ratios[name] = q;
  }
  return { raw, ratios };
}
