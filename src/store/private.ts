// A store holds copies of its users' files: its directory is private (0700) and every file in
// it is readable by its owner only (0600), whoever made the directory. LMDB creates its files
// with a fixed mode of 0664 (lmdb-js passes no other), so they are made here first, private,
// and LMDB opens what is there.
import { chmod, mkdir, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TetherError } from '../errors.js';

const GROUP_OTHER = 0o077;

/** Make `path` (a directory of the store) 0700, or refuse to use it. */
export async function makePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await tighten(path, 0o700);
}

/** The database files, created private before LMDB opens them (existing ones tightened). */
export async function makePrivateDb(dbDir: string): Promise<void> {
  await makePrivateDir(dbDir);
  for (const name of ['data.mdb', 'lock.mdb']) {
    const path = join(dbDir, name);
    const fh = await open(path, 'a', 0o600);
    await fh.close();
    await tighten(path, 0o600);
  }
}

async function tighten(path: string, mode: number): Promise<void> {
  const st = await stat(path);
  if ((st.mode & GROUP_OTHER) === 0) return;
  try {
    await chmod(path, mode);
  } catch (err) {
    const uid = process.getuid?.();
    throw new TetherError(
      'EUSAGE',
      `${path} is open to other users (mode ${(st.mode & 0o777).toString(8)}) and tether cannot ` +
        `make it private (${(err as NodeJS.ErrnoException).code ?? 'error'}; it belongs to uid ` +
        `${st.uid}${uid === undefined ? '' : `, tether runs as uid ${uid}`}): a store holds ` +
        `copies of your files, so give it a directory of your own`,
      { path },
      { cause: err },
    );
  }
}
