// The mount story of `tether demo`: a sample remote mounted, read online, edited offline in
// the mount while the server changes too, reconnected (the engine merges three ways), the
// conflict's variant seen in the mount and resolved, and the volume unmounted. Each step is a
// real command, printed before it runs; the demo process never serves the mount (the daemon
// does), and every call into the mount is a child process.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { editServer, writeExample } from './example.js';

export interface Steps {
  /** A heading. */
  say(text: string): void;
  /** `tether ARGS` in the demo directory; its exit status must be one of `expect`. */
  run(args: string[], expect: number[]): void;
  /** A shell command line in the demo directory; its exit status must be one of `expect`. */
  shell(line: string, expect?: number[]): void;
}

export async function mountDemo(dir: string, s: Steps): Promise<void> {
  s.say('A project on a "server" (a directory standing in for an NFS or sshfs share), mounted');
  await writeExample(join(dir, 'server'));
  await mkdir(join(dir, 'work'));
  s.run(['mount', 'server', 'work', '--store', 'store'], [0]);
  try {
    await story(dir, s);
  } catch (err) {
    // Never leave a mount behind: unmount, then report what stopped the demo.
    // (unmount detaches the mount itself when the daemon is gone)
    s.run(['unmount', 'work'], [0, 1, 2]);
    throw err;
  }
  s.say('Unmount (the daemon flushes first), free what no snapshot or sync state needs, check');
  s.run(['unmount', 'work'], [0]);
  s.run(['gc', '--store', 'store'], [0]);
  s.run(['fsck', '--store', 'store'], [0]);
}

async function story(dir: string, s: Steps): Promise<void> {
  s.shell('ls -l work');
  s.say('Online, files are fetched when first read; the rest stays remote-only');
  s.shell('head -3 work/docs/notes.txt && cat work/src/util.c > /dev/null');
  s.run(['status', 'work'], [0]);

  s.say('The train leaves: offline, every change is kept in the mount');
  s.run(['offline', 'work'], [0]);
  s.shell("sed -i 's/^note line 3$/note line 3 - laptop wording/' work/docs/notes.txt");
  s.shell("sed -i 's/^\\/\\* util \\*\\/ line 2$/& (laptop)/' work/src/util.c");
  s.shell('mkdir work/ideas && echo "written on the train" > work/ideas/trip.txt');
  s.shell('rm work/entry && ln -s src/util.c work/entry');
  s.say('A file never fetched cannot be read offline, and tether says why');
  s.shell('cat work/src/main.c', [1]);
  s.run(['why', 'work/src/main.c'], [0]);
  s.run(['status', 'work'], [0]);

  s.say('Meanwhile on the server: a separate edit of util.c, the same line of notes.txt, more');
  await editServer(join(dir, 'server'));
  s.shell('ls server');

  s.say('Back online: scan, three-way merge, apply; util.c merges, notes.txt is a conflict');
  s.run(['online', 'work'], [3]);
  s.shell('ls work/docs server/docs');
  s.run(['conflicts', 'work'], [0]);
  s.run(['show', 'work/docs/notes.txt', '--variant', 'local'], [0]);
  s.shell('grep -c laptop work/src/util.c server/src/util.c');

  s.say('Keep both versions: the variant becomes a real file on the server too');
  s.run(['resolve', 'work/docs/notes.txt', '--take', 'both'], [0]);
  s.shell('ls server/docs');
}
