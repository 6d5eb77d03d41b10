// The rounds of bench/fuse-peers.ts: the FUSE peers' order per round, and the medians reported
// (of each round's ratio to that round's native, not a ratio of medians).
import test from 'ava';
import { medians, rotated, type Round, type Row } from '../../bench/lib/rounds.js';

const orders: { name: string; peers: string[]; round: number; want: string[] }[] = [
  { name: 'round 0 keeps the order', peers: ['a', 'b', 'c'], round: 0, want: ['a', 'b', 'c'] },
  { name: 'round 1 starts at the second', peers: ['a', 'b', 'c'], round: 1, want: ['b', 'c', 'a'] },
  { name: 'round k starts over', peers: ['a', 'b', 'c'], round: 3, want: ['a', 'b', 'c'] },
  { name: 'round k + 2', peers: ['a', 'b', 'c'], round: 5, want: ['c', 'a', 'b'] },
  { name: 'one peer', peers: ['a'], round: 4, want: ['a'] },
  { name: 'no peers', peers: [], round: 2, want: [] },
];
for (const c of orders) {
  test(`rotated: ${c.name}`, (t) => {
    t.deepEqual(rotated(c.peers, c.round), c.want);
  });
}

test('rotated: over k rounds every peer takes every place once', (t) => {
  const peers = ['a', 'b', 'c', 'd'];
  const rounds = peers.map((_, r) => rotated(peers, r));
  for (let place = 0; place < peers.length; place++) {
    t.deepEqual(rounds.map((o) => o[place]).sort(), peers);
  }
});

const round = (native: number, peer: number): Round => {
  const rows = new Map<string, Row>([
    ['native', { 'w s': native }],
    ['p', { 'w s': peer }],
  ]);
  return { order: ['native', 'p'], rows };
};

test('medians: of the ratios within each round, and of the raw numbers', (t) => {
  // Ratios 4, 1, 0.25: median 1; raw medians 2 and 2. A loaded round (native 4) counts as one.
  const { raw, ratios } = medians([round(1, 4), round(2, 2), round(4, 1)], ['native', 'p']);
  t.deepEqual(ratios, { native: { 'w s': 1 }, p: { 'w s': 1 } });
  t.deepEqual(raw, { native: { 'w s': 2 }, p: { 'w s': 2 } });
});

test('medians: a ratio follows its own round, not the median native', (t) => {
  // Peer 1.5× native in every round, whatever the round's load: median ratio 1.5.
  const { ratios } = medians([round(1, 1.5), round(10, 15), round(2, 3)], ['native', 'p']);
  t.is(ratios['p']?.['w s'], 1.5);
});

test('medians: one round is that round (BENCH_ROUNDS=1, as before)', (t) => {
  const { raw, ratios } = medians([round(2, 3)], ['native', 'p']);
  t.is(raw['p']?.['w s'], 3);
  t.is(ratios['p']?.['w s'], 1.5);
});

test('medians: a round missing a peer is an error, not a NaN', (t) => {
  const short: Round = { order: ['native'], rows: new Map([['native', { 'w s': 1 }]]) };
  t.throws(() => medians([round(1, 2), short], ['native', 'p']), { message: /round without p/ });
});
