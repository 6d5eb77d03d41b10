// The built-in example: a small project tree (sources, docs, a binary, a symlink, an empty
// directory, a name that is not UTF-8), and the edits the demo makes to it on each side.
import {
  mkdir,
  rm,
  symlink,
  writeFile,
  chmod,
  appendFile,
  readFile,
  rename,
} from 'node:fs/promises';
import { join } from 'node:path';

export async function writeExample(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
  await mkdir(join(root, 'src'), { recursive: true });
  await mkdir(join(root, 'docs'), { recursive: true });
  await mkdir(join(root, 'build'), { recursive: true });
  const lines = (n: number, what: string) =>
    Array.from({ length: n }, (_, i) => `${what} line ${i + 1}`).join('\n') + '\n';
  await writeFile(join(root, 'README.md'), '# example\n\nA project that lives on a server.\n');
  await writeFile(join(root, 'src', 'main.c'), lines(40, '/* main */'));
  await writeFile(join(root, 'src', 'util.c'), lines(40, '/* util */'));
  await writeFile(join(root, 'docs', 'notes.txt'), lines(20, 'note'));
  await writeFile(join(root, 'docs', 'plan.txt'), lines(10, 'plan'));
  await writeFile(
    join(root, 'logo.bin'),
    Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff)),
  );
  // A name that is not valid UTF-8 (Latin-1 "café"): only a Buffer path can create it.
  await writeFile(
    Buffer.concat([Buffer.from(join(root, 'caf')), Buffer.from([0xe9]), Buffer.from('.txt')]),
    'latin-1 name\n',
  );
  await symlink('src/main.c', join(root, 'entry'));
  await chmod(join(root, 'src', 'main.c'), 0o644);
}

async function edit(path: string, from: string, to: string): Promise<void> {
  const text = await readFile(path, 'utf8');
  await writeFile(path, text.replace(from, to));
}

/** Local work for the snapshot/diff part: an edit, a new file, a delete, a chmod. */
export async function editForDiff(root: string): Promise<void> {
  await edit(join(root, 'src', 'main.c'), 'main */ line 3', 'main */ line 3 (fixed)');
  await writeFile(join(root, 'src', 'new.c'), 'int added(void) { return 1; }\n');
  await rm(join(root, 'docs', 'plan.txt'));
  await chmod(join(root, 'src', 'util.c'), 0o755);
}

/** What the laptop does offline: edits (one overlapping the server's), a create, a rename. */
export async function editLocal(root: string): Promise<void> {
  await edit(join(root, 'src', 'util.c'), 'util */ line 2\n', 'util */ line 2 (laptop)\n');
  await edit(join(root, 'docs', 'notes.txt'), 'note line 3\n', 'note line 3 — laptop wording\n');
  await writeFile(join(root, 'docs', 'trip.txt'), 'written on the train\n');
  await rename(join(root, 'logo.bin'), join(root, 'logo-old.bin'));
}

/** What others do on the server meanwhile: a non-overlapping edit, an overlapping one, a delete. */
export async function editServer(root: string): Promise<void> {
  await edit(join(root, 'src', 'util.c'), 'util */ line 38\n', 'util */ line 38 (server)\n');
  await edit(join(root, 'docs', 'notes.txt'), 'note line 3\n', 'note line 3 — server wording\n');
  await appendFile(join(root, 'README.md'), '\nEdited on the server.\n');
  await rm(join(root, 'build'), { recursive: true });
}
