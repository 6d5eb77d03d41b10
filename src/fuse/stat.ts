// A file's attributes as the binding wants them (fuse-native's stat object).
import type { BigIntStats } from 'node:fs';

export interface FuseStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  dev: number;
  nlink: number;
  ino: number;
  rdev: number;
  blksize: number;
  blocks: number;
  atime: Date;
  mtime: Date;
  ctime: Date;
}

const ms = (ns: bigint): Date => new Date(Number(ns / 1_000_000n));

export function fuseStat(st: BigIntStats): FuseStat {
  return {
    mode: Number(st.mode),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: Number(st.size),
    dev: Number(st.dev),
    nlink: Number(st.nlink),
    ino: Number(st.ino),
    rdev: Number(st.rdev),
    blksize: Number(st.blksize),
    blocks: Number(st.blocks),
    atime: ms(st.atimeNs),
    mtime: ms(st.mtimeNs),
    ctime: ms(st.ctimeNs),
  };
}
