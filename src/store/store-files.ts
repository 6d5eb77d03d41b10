// The store directory's own files: its marker, fsyncs of files and directories, and the temp
// files writers killed mid-write leave behind.
import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const MARKER = 'tether-store.json';
export const FORMAT = 'tether-store';
/** The pid of the daemon that owns a store's write side (a mounted volume's). */
export const daemonPidFile = (storeDir: string): string => join(storeDir, 'daemon.pid');
/** 2: records of the other layers carry a checksum (checked-db.ts). */
export const FORMAT_VERSION = 2;

/** The file is not there (ENOENT only: a parent that is not a directory is another error). */
export function isNoEntry(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/**
 * True while process `pid` runs (a temp file or lock of a running process is left alone). A
 * zombie does not run: a daemon killed with -9 stays one until its parent (often init) reaps it,
 * and `kill(pid, 0)` still succeeds on it.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** Linux's view of the process's state (`/proc/PID/stat`: the letter after the name's `)`). */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/** Temp files of writers killed mid-write (named `<pid>-<random>`) are only litter: remove them. */
export async function removeStaleTemps(tmpDir: string): Promise<void> {
  for (const name of await readdir(tmpDir)) {
    const pid = Number(name.split('-', 1)[0]);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) {
      await rm(join(tmpDir, name), { force: true });
    }
  }
}

/** Write the store's marker (temp → fsync → rename → fsync of the directory). */
export async function writeMarker(dir: string): Promise<void> {
  const tmp = join(dir, 'tmp', MARKER);
  await mkdir(join(dir, 'tmp'), { recursive: true, mode: 0o700 });
  await writeFile(tmp, JSON.stringify({ format: FORMAT, version: FORMAT_VERSION }) + '\n', {
    mode: 0o600,
  });
  await syncFile(tmp);
  await rename(tmp, join(dir, MARKER));
  await syncDir(dir);
}

export async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
