// A file's attributes as the binding wants them: 64-bit inode numbers and sizes, nanosecond
// times (binding.ts's Stat).
import type { BigIntStats } from 'node:fs';
import type { Stat } from './operations.js';

export function fuseStat(st: BigIntStats): Stat {
  return {
    mode: Number(st.mode),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: st.size,
    dev: Number(st.dev),
    nlink: Number(st.nlink),
    ino: st.ino,
    rdev: Number(st.rdev),
    blksize: Number(st.blksize),
    blocks: st.blocks,
    atimeNs: st.atimeNs,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
  };
}
