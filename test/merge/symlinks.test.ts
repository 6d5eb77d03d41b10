// Symlinks: the target is the content (rules F, V, M, T), in both directions.
import test from 'ava';
import { file, link, runCases, T0, type Case } from './helpers.js';

const cases: Case[] = [
  {
    name: 'retargeted locally → the server follows',
    base: { L: link('t') },
    local: { L: link('u') },
    server: { L: link('t') },
    want: { tree: { L: link('u') }, ops: ['put server L'] },
  },
  {
    name: 'retargeted on the server → local follows',
    base: { L: link('t') },
    local: { L: link('t') },
    server: { L: link('u') },
    want: { tree: { L: link('u') }, ops: ['put local L'] },
  },
  {
    name: 'retargeted differently: L→v (server) at the path, L→u as variant',
    base: { L: link('t') },
    local: { L: link('u') },
    server: { L: link('v') },
    want: { tree: { L: link('v') }, conflicts: ['edit/edit L'], variants: { L: link('u') } },
  },
  {
    name: 'retargeted differently, mirrored: L→u (server) at the path, L→v as variant',
    base: { L: link('t') },
    local: { L: link('v') },
    server: { L: link('u') },
    want: { tree: { L: link('u') }, conflicts: ['edit/edit L'], variants: { L: link('v') } },
  },
  {
    name: 'the same new target on both sides is clean',
    base: { L: link('t') },
    local: { L: link('u') },
    server: { L: link('u') },
    want: { tree: { L: link('u') }, ops: [] },
  },
  {
    name: 'a symlink touched on both sides is no conflict',
    base: { L: link('t') },
    local: { L: link('t', { mtime: T0 + 2n }) },
    server: { L: link('t', { mtime: T0 + 1n }) },
    want: { tree: { L: link('t', { mtime: T0 + 2n }) } },
  },
  {
    name: 'deleted locally, retargeted on the server: the server link survives',
    base: { L: link('t'), k: 'k' },
    local: { k: 'k' },
    server: { L: link('u'), k: 'k' },
    want: { tree: { L: link('u'), k: 'k' }, conflicts: ['delete/modify L (info)'] },
  },
  {
    name: 'retargeted locally, deleted on the server: the local link survives',
    base: { L: link('t'), k: 'k' },
    local: { L: link('u'), k: 'k' },
    server: { k: 'k' },
    want: { tree: { L: link('u'), k: 'k' }, conflicts: ['modify/delete L (info)'] },
  },
  {
    name: 'symlink → file locally, retargeted on the server: type conflict',
    base: { L: link('t') },
    local: { L: 'a' },
    server: { L: link('u') },
    want: { tree: { L: link('u') }, conflicts: ['type L'], variants: { L: 'a' } },
  },
  {
    name: 'edited locally, file → symlink on the server: type conflict',
    base: { L: 'a' },
    local: { L: 'b' },
    server: { L: link('u') },
    want: { tree: { L: link('u') }, conflicts: ['type L'], variants: { L: 'b' } },
  },
  {
    name: 'add/add symlinks with different targets',
    base: {},
    local: { L: link('a') },
    server: { L: link('b') },
    want: { tree: { L: link('b') }, conflicts: ['add/add L'], variants: { L: link('a') } },
  },
  {
    name: 'a symlink and a file of the same bytes are different types',
    base: {},
    local: { L: file('t') },
    server: { L: link('t') },
    want: { tree: { L: link('t') }, conflicts: ['add/add L'], variants: { L: 't' } },
  },
];
runCases(test, 'symlink', cases);
