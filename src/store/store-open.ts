// Making and opening a store directory: its marker (format and version), the private modes of
// its directories, the stale temps of killed writers, and the LMDB environment under db/.
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { open as openLmdb, type RootDatabase } from 'lmdb';
import { TetherError } from '../errors.js';
import { checkLmdbTrees } from './lmdb-trees.js';
import { makePrivateDb, makePrivateDir } from './private.js';
import {
  FORMAT,
  FORMAT_VERSION,
  isNoEntry,
  MARKER,
  removeStaleTemps,
  writeMarker,
} from './store-files.js';

export function notAStore(dir: string, why: string): TetherError {
  return new TetherError(
    'ENOTSTORE',
    `${dir} is not a tether store (${why}): pass a store directory with --store, ` +
      `or let "tether snapshot take" or "tether sync-dirs" create a new one there`,
    { dir },
  );
}

/** Make the directories and marker of a new store in `dir` (mode 0700; it must be empty). */
export async function createStoreDir(dir: string): Promise<void> {
  await makePrivateDir(dir);
  const marker = join(dir, MARKER);
  try {
    await stat(marker);
    throw new TetherError('EUSAGE', `${dir} is already a tether store`, { dir });
  } catch (err) {
    if (!isNoEntry(err)) throw err;
  }
  const present = await readdir(dir);
  if (present.length > 0) {
    throw notAStore(dir, 'the directory is not empty and has no ' + MARKER);
  }
  await mkdir(join(dir, 'blobs'), { mode: 0o700 });
  await mkdir(join(dir, 'tmp'), { mode: 0o700 });
  await mkdir(join(dir, 'quarantine'), { mode: 0o700 });
  await writeMarker(dir);
}

/** The marker's text; a directory that has none is refused with ENOTSTORE, saying why. */
async function readMarker(dir: string): Promise<string> {
  try {
    return await readFile(join(dir, MARKER), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      let why = 'no ' + MARKER + ' in it';
      try {
        const st = await stat(dir);
        if (!st.isDirectory()) why = 'it is not a directory';
      } catch {
        why = 'it does not exist';
      }
      throw notAStore(dir, why);
    }
    if (code === 'ENOTDIR') throw notAStore(dir, 'it is not a directory');
    throw new TetherError(
      'EIO',
      `cannot read ${join(dir, MARKER)}: ${String(err)}`,
      {},
      { cause: err },
    );
  }
}

/**
 * Check that `dir` is a store this tether understands and open its LMDB environment. Opened
 * for writing, an older store is marked with this format (its records are sealed by the
 * caller), its directories made private and its stale temps removed.
 */
export async function openStoreEnv(dir: string, readOnly: boolean): Promise<RootDatabase> {
  const text = await readMarker(dir);
  let marker: unknown;
  try {
    marker = JSON.parse(text);
  } catch {
    throw notAStore(dir, MARKER + ' is not valid JSON');
  }
  const m = marker as { format?: unknown; version?: unknown };
  if (m.format !== FORMAT) throw notAStore(dir, MARKER + ' does not describe a tether store');
  // An older store is marked with this format before its records are sealed: a tether that
  // cannot read sealed records then refuses the store rather than misread it.
  if (typeof m.version === 'number' && m.version < FORMAT_VERSION && !readOnly) {
    await writeMarker(dir);
  }
  if (typeof m.version !== 'number' || m.version > FORMAT_VERSION) {
    throw new TetherError(
      'ENOTSTORE',
      `${dir} uses store format ${String(m.version)}, newer than this tether understands ` +
        `(${FORMAT_VERSION}): upgrade tether to open it`,
      { dir },
    );
  }
  if (!readOnly) {
    // Stores made before tether kept them private are made so now.
    await makePrivateDir(dir);
    for (const sub of ['blobs', 'tmp', 'quarantine']) await makePrivateDir(join(dir, sub));
    await removeStaleTemps(join(dir, 'tmp'));
    await makePrivateDb(join(dir, 'db'));
  }
  checkLmdbTrees(dir, 'open');
  return openLmdb({
    path: join(dir, 'db'),
    maxDbs: 64,
    readOnly,
    mapSize: 2 ** 34,
    commitDelay: 0,
  });
}
