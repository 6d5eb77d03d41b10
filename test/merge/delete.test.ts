// Deletions (rule M: modification beats deletion), in both directions.
import test from 'ava';
import { file, runCases, T0, type Case } from './helpers.js';

const cases: Case[] = [
  {
    name: 'deleted locally, unchanged on the server → deleted there',
    base: { f: 'a', k: 'k' },
    local: { k: 'k' },
    server: { f: 'a', k: 'k' },
    want: { tree: { k: 'k' }, ops: ['delete server f'] },
  },
  {
    name: 'deleted on the server, unchanged locally → deleted locally',
    base: { f: 'a', k: 'k' },
    local: { f: 'a', k: 'k' },
    server: { k: 'k' },
    want: { tree: { k: 'k' }, ops: ['delete local f'] },
  },
  {
    name: 'deleted on both sides is clean',
    base: { f: 'a', k: 'k' },
    local: { k: 'k' },
    server: { k: 'k' },
    want: { tree: { k: 'k' }, ops: [] },
  },
  {
    name: 'edited locally, deleted on the server: re-created on the server, record',
    base: { f: 'a', k: 'k' },
    local: { f: 'b', k: 'k' },
    server: { k: 'k' },
    want: {
      tree: { f: 'b', k: 'k' },
      conflicts: ['modify/delete f (info)'],
      ops: ['put server f'],
    },
  },
  {
    name: 'deleted locally, edited on the server: re-created locally, record',
    base: { f: 'a', k: 'k' },
    local: { k: 'k' },
    server: { f: 'b', k: 'k' },
    want: {
      tree: { f: 'b', k: 'k' },
      conflicts: ['delete/modify f (info)'],
      ops: ['put local f'],
    },
  },
  {
    name: 'chmod locally beats a deletion on the server',
    base: { f: 'a', k: 'k' },
    local: { f: file('a', { mode: 0o600 }), k: 'k' },
    server: { k: 'k' },
    want: {
      tree: { f: file('a', { mode: 0o600 }), k: 'k' },
      conflicts: ['modify/delete f (info)'],
    },
  },
  {
    name: 'a touch on the server beats a local deletion (a touch is a change)',
    base: { f: 'a', k: 'k' },
    local: { k: 'k' },
    server: { f: file('a', { mtime: T0 + 1n }), k: 'k' },
    want: {
      tree: { f: file('a', { mtime: T0 + 1n }), k: 'k' },
      conflicts: ['delete/modify f (info)'],
    },
  },
  {
    name: 'a whole unchanged directory deleted locally: the server deletes children first',
    base: { d: { x: { y: 'y' }, z: 'z' }, k: 'k' },
    local: { k: 'k' },
    server: { d: { x: { y: 'y' }, z: 'z' }, k: 'k' },
    want: {
      tree: { k: 'k' },
      ops: ['delete server d/x/y', 'delete server d/x', 'delete server d/z', 'delete server d'],
    },
  },
  {
    name: 'a whole unchanged directory deleted on the server: local follows',
    base: { d: { x: 'x' }, k: 'k' },
    local: { d: { x: 'x' }, k: 'k' },
    server: { k: 'k' },
    want: { tree: { k: 'k' }, ops: ['delete local d/x', 'delete local d'] },
  },
  {
    name: 'edited locally, its directory replaced by a file on the server: type conflict',
    base: { d: { x: 'x' } },
    local: { d: { x: 'y' } },
    server: { d: 'f' },
    want: { tree: { d: 'f' }, conflicts: ['type d'], variants: { d: { x: 'y' } } },
  },
];
runCases(test, 'delete', cases);
