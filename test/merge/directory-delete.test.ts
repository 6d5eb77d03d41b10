// Rule D: a directory deleted on one side while the other changed things inside. Unchanged
// descendants go, changed and new ones survive with their parents, one record on the directory.
import test from 'ava';
import { dir, runCases, type Case } from './helpers.js';

const cases: Case[] = [
  {
    name: 'D/{a,b} | ∅ | D/{a,b,n} → D/{n}, record on D',
    base: { D: { a: 'a', b: 'b' }, k: 'k' },
    local: { k: 'k' },
    server: { D: { a: 'a', b: 'b', n: 'n' }, k: 'k' },
    want: {
      tree: { D: { n: 'n' }, k: 'k' },
      conflicts: ['directory-delete D (info)'],
      ops: ['mkdir local D', 'delete server D/a', 'delete server D/b', 'put local D/n'],
    },
  },
  {
    name: 'mirrored: D/{a,b} | D/{a,b,n} | ∅ → D/{n}, record on D',
    base: { D: { a: 'a', b: 'b' }, k: 'k' },
    local: { D: { a: 'a', b: 'b', n: 'n' }, k: 'k' },
    server: { k: 'k' },
    want: {
      tree: { D: { n: 'n' }, k: 'k' },
      conflicts: ['directory-delete D (info)'],
      ops: ['mkdir server D', 'delete local D/a', 'delete local D/b', 'put server D/n'],
    },
  },
  {
    name: 'an edited file deep inside survives with its parents; the rest goes',
    base: { D: { E: { f: 'f', g: 'g' }, h: 'h' }, k: 'k' },
    local: { k: 'k' },
    server: { D: { E: { f: 'F', g: 'g' }, h: 'h' }, k: 'k' },
    want: { tree: { D: { E: { f: 'F' } }, k: 'k' }, conflicts: ['directory-delete D (info)'] },
  },
  {
    name: 'mirrored: edited locally deep inside, deleted on the server',
    base: { D: { E: { f: 'f', g: 'g' }, h: 'h' }, k: 'k' },
    local: { D: { E: { f: 'F', g: 'g' }, h: 'h' }, k: 'k' },
    server: { k: 'k' },
    want: { tree: { D: { E: { f: 'F' } }, k: 'k' }, conflicts: ['directory-delete D (info)'] },
  },
  {
    name: 'new file deep under a directory deleted on the server survives',
    base: { D: { x: 'x' }, k: 'k' },
    local: { D: { x: 'x', E: { F: { n: 'n' } } }, k: 'k' },
    server: { k: 'k' },
    want: {
      tree: { D: { E: { F: { n: 'n' } } }, k: 'k' },
      conflicts: ['directory-delete D (info)'],
    },
  },
  {
    name: 'only the directory’s own mode changed on the other side: it survives, empty',
    base: { D: dir({ x: 'x' }, { mode: 0o755 }), k: 'k' },
    local: { k: 'k' },
    server: { D: dir({ x: 'x' }, { mode: 0o700 }), k: 'k' },
    want: {
      tree: { D: dir({}, { mode: 0o700 }), k: 'k' },
      conflicts: ['directory-delete D (info)'],
    },
  },
  {
    name: 'the other side deleted inside too: only the changes count',
    base: { D: { x: 'x', y: 'y', z: 'z' }, k: 'k' },
    local: { k: 'k' },
    server: { D: { x: 'X', z: 'z' }, k: 'k' },
    want: { tree: { D: { x: 'X' }, k: 'k' }, conflicts: ['directory-delete D (info)'] },
  },
  {
    name: 'the other side only deleted inside: the directory goes, no record',
    base: { D: { x: 'x', y: 'y' }, k: 'k' },
    local: { k: 'k' },
    server: { D: { x: 'x' }, k: 'k' },
    want: { tree: { k: 'k' }, ops: ['delete server D/x', 'delete server D'] },
  },
  {
    name: 'deleted on both sides is clean',
    base: { D: { x: 'x' }, k: 'k' },
    local: { k: 'k' },
    server: { k: 'k' },
    want: { tree: { k: 'k' }, ops: [] },
  },
];
runCases(test, 'directory-delete', cases);
