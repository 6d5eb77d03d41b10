// Listings kept by directory node (src/fuse/lowlevel-dirs.ts): the kernel opens directories
// without asking the daemon, so readdirs carry no handle and readers of one directory share
// its listing. Each reader must still see a whole listing: every name that stayed while it
// read exactly once, whatever other readers and changes did meanwhile (POSIX leaves only the
// names added or removed meanwhile open), and no name removed is left behind in the kernel.
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN } from '../cli/run.js';
import { cannotMount, mounted, run, sh } from './harness.js';

const serial = cannotMount === undefined ? test.serial : test.serial.skip;
const skipped = cannotMount === undefined ? '' : ` (skipped: ${cannotMount})`;

const FILES = 3000;
const nameOf = (i: number): string => `file-${String(i).padStart(5, '0')}-of-a-long-listing`;
const ALL = Array.from({ length: FILES }, (_, i) => nameOf(i));

const fill = (remote: string): void => {
  mkdirSync(join(remote, 'big'));
  for (const n of ALL) writeFileSync(join(remote, 'big', n), 'x');
};

// A reader in a process of its own (never this one: it must not touch the mount): lists
// argv[1] with readdir(3), pausing after PAUSE names to run argv[2] in the shell (another
// reader, changes through the mount), then reads on. Prints the names it read and what the
// shell printed, as JSON.
const READER = `
const { opendirSync } = require('node:fs');
const { execSync } = require('node:child_process');
const dir = opendirSync(process.argv[1], { bufferSize: 32 });
const read = [];
let meanwhile = '';
for (let e; (e = dir.readSync()) !== null; ) {
  read.push(e.name);
  if (read.length === 200) meanwhile = execSync(process.argv[2], { encoding: 'utf8', maxBuffer: 1 << 24 });
}
dir.closeSync();
process.stdout.write(JSON.stringify({ read, meanwhile }));
`;

interface Read {
  readonly read: string[];
  readonly meanwhile: string;
}

async function readPausing(dir: string, meanwhile: string): Promise<Read> {
  const r = await run(process.execPath, ['-e', READER, dir, meanwhile], 120_000);
  if (r.status !== 0) throw new Error(`the reader failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Read;
}

/** Names seen more than once. */
const twice = (names: readonly string[]): string[] =>
  names.filter((n, i) => names.indexOf(n) !== i);

serial(
  `a reader paused mid-listing while names are added and removed sees every name that stayed once${skipped}`,
  async (t) => {
    const v = await mounted(t, fill);
    const big = join(v.mnt, 'big');
    // Removed meanwhile: names the reader has passed (which would shift a listing made
    // again) and names it has not reached; added: names new to the directory.
    const removed = ALL.filter((_, i) => i % 15 === 0);
    const added = Array.from({ length: 300 }, (_, i) => `added-${String(i)}`);
    const r = await readPausing(
      big,
      `cd ${big} && rm ${removed.join(' ')} && touch ${added.join(' ')}`,
    );
    t.deepEqual(twice(r.read), []);
    const seen = new Set(r.read);
    const stayed = ALL.filter((n) => !removed.includes(n));
    t.deepEqual(
      stayed.filter((n) => !seen.has(n)),
      [],
      'every name that stayed was read',
    );
    t.deepEqual(
      r.read.filter((n) => !ALL.includes(n) && !added.includes(n)),
      [],
      'nothing else was read',
    );
    // A name read after its removal would have left the kernel an entry of a gone file.
    const left = await sh(
      `cd ${big} && for n in ${removed.join(' ')}; do [ -e $n ] && echo $n; done; true`,
    );
    t.is(left.stdout, '', left.stderr);
    const after = await sh(`ls -f ${big} | sort`);
    t.is(after.stdout, ['.', '..', ...stayed, ...added].sort().join('\n') + '\n');
  },
);

serial(
  `two readers of one directory at once both read it whole, and one paused in it too${skipped}`,
  async (t) => {
    const v = await mounted(t, fill);
    const big = join(v.mnt, 'big');
    const whole = ['.', '..', ...ALL].sort().join('\n') + '\n';
    // Each round changes the directory first (through the mount), so the kernel's cached
    // listing is dropped and both readers ask the daemon, at once.
    for (let round = 0; round < 3; round++) {
      const both = await sh(
        `cd ${big} && touch new-${String(round)} && rm new-${String(round)} && ` +
          `(ls -f . | sort > ../a-${String(round)} & ls -f . | sort > ../b-${String(round)} & wait) && ` +
          `cat ../a-${String(round)} && echo --- && cat ../b-${String(round)}`,
        60_000,
      );
      t.is(both.stdout, `${whole}---\n${whole}`, both.stderr);
    }
    // A reader pauses; another reads the whole directory (the kernel keeps the listing the
    // two made), then names are removed on the server and a sync brings that in, which drops
    // the kernel's listing: the first reader reads on from the daemon.
    const removed = ALL.filter((_, i) => i % 10 === 0);
    const r = await readPausing(
      big,
      `cd ${big} && touch new && rm new && ls -f . | sort && ` +
        `cd ${join(v.remote, 'big')} && rm ${removed.join(' ')} && ` +
        `${process.execPath} ${MAIN} sync ${v.mnt} >/dev/null`,
    );
    t.is(r.meanwhile, whole, 'the second reader read the whole directory');
    t.deepEqual(twice(r.read), []);
    const seen = new Set(r.read);
    t.deepEqual(
      ALL.filter((n) => !removed.includes(n) && !seen.has(n)),
      [],
      'the paused reader read every name that stayed',
    );
    const after = await sh(`ls -f ${big} | wc -l`);
    t.is(after.stdout, `${String(FILES - removed.length + 2)}\n`, after.stderr);
  },
);

serial(
  `an open directory's fchmod and futimens answer the directory's own attributes${skipped}`,
  async (t) => {
    // The kernel opens directories itself: their handle is 0, not a descriptor of the daemon.
    const v = await mounted(t, (remote) => {
      mkdirSync(join(remote, 'd'));
    });
    const script = `
const fs = require('node:fs');
const fd = fs.openSync(process.argv[1], 'r');
fs.fchmodSync(fd, 0o701);
fs.futimesSync(fd, 1000, 2000);
const st = fs.fstatSync(fd);
process.stdout.write(st.mode.toString(8) + ' ' + String(st.mtimeMs));
`;
    const r = await run(process.execPath, ['-e', script, join(v.mnt, 'd')]);
    t.is(r.stdout, '40701 2000000', r.stderr);
    t.is((await sh(`stat -c '%a %F %Y' ${join(v.mnt, 'd')}`)).stdout, '701 directory 2000\n');
  },
);
