// Directory against file and other type changes (rule T), in both directions.
import test from 'ava';
import { link, runCases, type Case } from './helpers.js';

const cases: Case[] = [
  {
    name: 'file replaced by a directory locally → the server follows',
    base: { f: 'a' },
    local: { f: { x: 'x' } },
    server: { f: 'a' },
    want: { tree: { f: { x: 'x' } }, ops: ['delete server f', 'mkdir server f', 'put server f/x'] },
  },
  {
    name: 'file replaced by a directory on the server → local follows',
    base: { f: 'a' },
    local: { f: 'a' },
    server: { f: { x: 'x' } },
    want: { tree: { f: { x: 'x' } }, ops: ['delete local f', 'mkdir local f', 'put local f/x'] },
  },
  {
    name: 'directory replaced by a file locally → the server deletes children first',
    base: { d: { x: 'x', e: { y: 'y' } } },
    local: { d: 'a' },
    server: { d: { x: 'x', e: { y: 'y' } } },
    want: {
      tree: { d: 'a' },
      ops: [
        'delete server d/e/y',
        'delete server d/e',
        'delete server d/x',
        'delete server d',
        'put server d',
      ],
    },
  },
  {
    name: 'directory replaced by a file on the server → local follows',
    base: { d: { x: 'x' } },
    local: { d: { x: 'x' } },
    server: { d: 'a' },
    want: { tree: { d: 'a' }, ops: ['delete local d/x', 'delete local d', 'put local d'] },
  },
  {
    name: 'file→dir locally, edited on the server: server file at the path, local dir as variant',
    base: { f: 'a' },
    local: { f: { x: 'x' } },
    server: { f: 'b' },
    want: { tree: { f: 'b' }, conflicts: ['type f'], variants: { f: { x: 'x' } } },
  },
  {
    name: 'edited locally, file→dir on the server: server dir at the path, local file as variant',
    base: { f: 'a' },
    local: { f: 'b' },
    server: { f: { x: 'x' } },
    want: { tree: { f: { x: 'x' } }, conflicts: ['type f'], variants: { f: 'b' } },
  },
  {
    name: 'dir→file locally, changed inside on the server: server dir kept, local file as variant',
    base: { d: { x: 'x' } },
    local: { d: 'a' },
    server: { d: { x: 'y' } },
    want: { tree: { d: { x: 'y' } }, conflicts: ['type d'], variants: { d: 'a' } },
  },
  {
    name: 'changed inside locally, dir→file on the server: server file kept, local dir as variant',
    base: { d: { x: 'x' } },
    local: { d: { x: 'y', n: 'n' } },
    server: { d: 'a' },
    want: { tree: { d: 'a' }, conflicts: ['type d'], variants: { d: { x: 'y', n: 'n' } } },
  },
  {
    name: 'add/add file (local) against directory (server)',
    base: {},
    local: { n: 'a' },
    server: { n: { x: 'x' } },
    want: { tree: { n: { x: 'x' } }, conflicts: ['add/add n'], variants: { n: 'a' } },
  },
  {
    name: 'add/add directory (local) against file (server)',
    base: {},
    local: { n: { x: 'x' } },
    server: { n: 'a' },
    want: { tree: { n: 'a' }, conflicts: ['add/add n'], variants: { n: { x: 'x' } } },
  },
  {
    name: 'both replaced a directory by the same file: clean',
    base: { d: { x: 'x' } },
    local: { d: 'a' },
    server: { d: 'a' },
    want: { tree: { d: 'a' }, ops: [] },
  },
  {
    name: 'both replaced a file by directories: their children merge',
    base: { f: 'a' },
    local: { f: { x: 'x' } },
    server: { f: { y: 'y' } },
    want: { tree: { f: { x: 'x', y: 'y' } }, ops: ['put server f/x', 'put local f/y'] },
  },
  {
    name: 'both replaced a file by different leaves: type conflict',
    base: { f: 'a' },
    local: { f: link('t') },
    server: { f: 'b' },
    want: { tree: { f: 'b' }, conflicts: ['type f'], variants: { f: link('t') } },
  },
  {
    name: 'file → symlink locally → the server follows',
    base: { f: 'a' },
    local: { f: link('t') },
    server: { f: 'a' },
    want: { tree: { f: link('t') }, ops: ['put server f'] },
  },
  {
    name: 'file → symlink on the server → local follows',
    base: { f: 'a' },
    local: { f: 'a' },
    server: { f: link('t') },
    want: { tree: { f: link('t') }, ops: ['put local f'] },
  },
  {
    name: 'new directories on both sides merge down to different depths',
    base: {},
    local: { x: { y: { z: { f: 'f' } } } },
    server: { x: { y: { g: 'g' } } },
    want: {
      tree: { x: { y: { z: { f: 'f' }, g: 'g' } } },
      ops: ['put local x/y/g', 'mkdir server x/y/z', 'put server x/y/z/f'],
    },
  },
];
runCases(test, 'dir/file', cases);
