// A damaged B-tree page of the store's LMDB file is reported in words, naming the database and
// the page, never by the process dying of a signal: LMDB trusts every page it reads, and a
// flipped byte in a node's offset, a key's size or a child's page number made it read outside
// the page or the file (SIGSEGV, SIGBUS) or abort. tether walks the trees first (at every open,
// and in full in fsck), and fsck --repair rebuilds the database from what can still be read.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../bench/lib/gentree.js';
import { Store } from '../../src/store/store.js';
import { MAIN, tempDir } from '../cli/run.js';
import { flip } from './damage.js';
import { compact, makeBigStore, P_BRANCH, P_LEAF, P_OVERFLOW, pagesOf } from './lmdb-pages.js';

interface Exit {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(...args: string[]): Exit {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Exited by itself, with a status fsck documents (0 sound, 1 problems), and no stack trace. */
function sane(t: import('ava').ExecutionContext, what: string, r: Exit): void {
  t.is(r.signal, null, `${what}: killed by ${String(r.signal)}\n${r.stderr}`);
  t.true(r.status === 0 || r.status === 1, `${what}: exit ${String(r.status)}\n${r.stderr}`);
  t.notRegex(r.stderr, /\n\s+at |internal error|Segmentation|MDB_/, what);
}

function write(file: string, offset: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

function readU16(file: string, offset: number): number {
  const b = Buffer.alloc(2);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, b, 0, 2, offset);
  } finally {
    closeSync(fd);
  }
  return b.readUInt16LE(0);
}

/** Where node `i` of the page at `at` starts (the node offsets count from the 24-byte header). */
const nodeAt = (file: string, at: number, i: number): number =>
  at + 24 + readU16(file, at + 24 + 2 * i);

/** Records a store holds: objects in the database, and every other layer's. */
async function records(dir: string): Promise<number> {
  const store = await Store.open(dir, { readOnly: true });
  try {
    let n = [...store.blobRecords()].length + [...store.treeRecords()].length;
    for (const name of store.userDbNames()) n += [...store.rawRecords(name)].length;
    return n;
  } finally {
    await store.close();
  }
}

let made: Promise<{ dir: string; cleanup: () => void }> | undefined;
/** One compact store for the tests that damage it (each damages a copy). */
function pristine(): Promise<{ dir: string; cleanup: () => void }> {
  made ??= (async () => {
    const tmp = tempDir();
    await makeBigStore(join(tmp.dir, 'S'), 3000);
    await compact(join(tmp.dir, 'S'));
    return tmp;
  })();
  return made;
}
test.after.always(async () => {
  (await made)?.cleanup();
});

test('a store with many records in several databases passes, before and after compaction', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const store = join(tmp.dir, 'S');
  await makeBigStore(store, 3000, 2);
  const before = run('fsck', '--store', store);
  t.is(before.status, 0, before.stdout + before.stderr);
  await compact(store);
  const { pages } = pagesOf(join(store, 'db', 'data.mdb'));
  for (const kind of [P_BRANCH, P_LEAF, P_OVERFLOW]) {
    t.true(
      pages.some((p) => p.flags === kind),
      `a page of kind ${kind}`,
    );
  }
  const after = run('fsck', '--store', store);
  t.is(after.status, 0, after.stdout + after.stderr);
});

const cases: {
  readonly name: string;
  readonly kind: number;
  /** Found by the walk every open makes (branch pages only; leaves and overflow by fsck). */
  readonly atOpen: boolean;
  readonly damage: (file: string, at: number, lastPage: number) => void;
}[] = [
  {
    name: "a branch page's node offset",
    atOpen: true,
    kind: P_BRANCH,
    damage: (file, at) => {
      flip(file, at + 24 + 3, 0x80); // node 1's offset, far past the page
    },
  },
  {
    name: "a leaf page's key size",
    atOpen: false,
    kind: P_LEAF,
    damage: (file, at) => {
      flip(file, nodeAt(file, at, 0) + 7, 0x40); // node 0's key size, 16 KiB more
    },
  },
  {
    name: "an overflow page's header",
    atOpen: false,
    kind: P_OVERFLOW,
    damage: (file, at) => {
      flip(file, at + 18, P_OVERFLOW); // its flags: no longer an overflow page
    },
  },
  {
    name: 'a child pointer past the last page',
    atOpen: true,
    kind: P_BRANCH,
    damage: (file, at, lastPage) => {
      const pgno = Buffer.alloc(4);
      pgno.writeUInt16LE((lastPage + 10) & 0xffff, 0);
      pgno.writeUInt16LE((lastPage + 10) >> 16, 2);
      write(file, nodeAt(file, at, 1), pgno);
    },
  },
];

for (const c of cases) {
  test(`damage in ${c.name} is reported in words, and fsck --repair rebuilds the database`, async (t) => {
    const base = await pristine();
    const tmp = tempDir();
    t.teardown(tmp.cleanup);
    const store = join(tmp.dir, 'S');
    cpSync(join(base.dir, 'S'), store, { recursive: true });
    const file = join(store, 'db', 'data.mdb');
    const { pages, pageSize, lastPage } = pagesOf(file);
    // The middle page of its kind (not the first: a root page is reached first of all).
    const ofKind = pages.filter((p) => p.flags === c.kind);
    const page = ofKind[Math.floor(ofKind.length / 2)]!;
    c.damage(file, page.pgno * pageSize, lastPage);

    const check = run('fsck', '--store', store);
    sane(t, 'fsck', check);
    t.is(check.status, 1);
    t.regex(
      check.stderr,
      new RegExp(
        `the store's database is damaged .*database "[^"]+", page ${page.pgno}: .*fsck --repair`,
      ),
    );
    if (c.atOpen) {
      // Every command opens the store the same way, and says the same.
      const list = run('snapshot', 'list', '--store', store);
      sane(t, 'snapshot list', list);
      t.regex(list.stderr, new RegExp(`page ${page.pgno}: `));
    }

    const repair = run('fsck', '--repair', '--store', store);
    sane(t, 'fsck --repair', repair);
    t.regex(
      repair.stdout,
      /repaired: the database was rebuilt from every record that could be read/,
    );
    t.regex(repair.stdout, new RegExp(`repaired: damaged: database "[^"]+", page ${page.pgno}: `));
    const again = run('fsck', '--store', store);
    sane(t, 'fsck after the repair', again);
    t.is(again.status, 0, again.stdout + again.stderr);
    t.is(run('snapshot', 'list', '--store', store).status, 0);
    // The rebuilt database holds the records of every sound page, in their own databases.
    const had = await records(join(base.dir, 'S'));
    const kept = await records(store);
    t.true(kept <= had && kept >= had * 0.9, `${kept} of ${had} records kept`);
  });
}

const FLIPS = Number(process.env['TETHER_FUZZ_FLIPS'] ?? 40);
const SEED = Number(process.env['TETHER_FUZZ_SEED'] ?? 20261206);

test('random byte flips in random pages: fsck reports damage or ok, never dies of a signal', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const base = join(tmp.dir, 'base');
  await makeBigStore(base, 300, 3);
  await compact(base);
  const file = join(base, 'db', 'data.mdb');
  const { pageSize, lastPage, pages } = pagesOf(file);
  const tree = pages.filter((p) => p.flags !== P_OVERFLOW);
  const random = mulberry32(SEED);
  let damaged = 0;
  for (let i = 0; i < FLIPS; i++) {
    const store = join(tmp.dir, `flip-${i}`);
    cpSync(base, store, { recursive: true });
    // Most flips in a branch or leaf page's used bytes (its header and node offsets, or its
    // nodes), where they matter; the rest anywhere (overflow data, slack).
    let pgno: number;
    let offset: number;
    if (random() < 0.75) {
      pgno = tree[Math.floor(random() * tree.length)]!.pgno;
      const lower = readU16(file, pgno * pageSize + 20);
      const upper = readU16(file, pgno * pageSize + 22);
      offset =
        random() < 0.5
          ? Math.floor(random() * (24 + lower))
          : 24 + upper + Math.floor(random() * (pageSize - 24 - upper));
    } else {
      pgno = 2 + Math.floor(random() * (lastPage - 1));
      offset = Math.floor(random() * pageSize);
    }
    const mask = 1 + Math.floor(random() * 255);
    flip(join(store, 'db', 'data.mdb'), pgno * pageSize + offset, mask);
    const what = `flip ${i}: page ${pgno} byte ${offset} ^ ${mask}`;
    const check = run('fsck', '--store', store);
    sane(t, what, check);
    if (/the store's database is damaged/.test(check.stderr)) damaged++;
    if (i % 4 === 0) {
      sane(t, `${what}: fsck --repair`, run('fsck', '--repair', '--store', store));
      const after = run('fsck', '--store', store);
      sane(t, `${what}: fsck after the repair`, after);
      t.notRegex(after.stderr, /the store's database is damaged/, what);
    }
  }
  t.log(`${FLIPS} flips, ${damaged} reported as damage to the database's pages`);
});
