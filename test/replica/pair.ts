// Two directory replicas in fresh temporary directories, removed when the test ends.
import { DirReplica } from '../../src/replica/dir.js';
import { tempDir } from '../cli/run.js';

export interface DirPair {
  readonly local: DirReplica;
  readonly server: DirReplica;
  readonly localDir: string;
  readonly serverDir: string;
}

export function dirPair(t: { teardown: (f: () => void) => void }, prefix: string): DirPair {
  const a = tempDir(`${prefix}-local-`);
  const b = tempDir(`${prefix}-server-`);
  t.teardown(() => {
    a.cleanup();
    b.cleanup();
  });
  return {
    local: new DirReplica(a.dir, 'local'),
    server: new DirReplica(b.dir, 'server'),
    localDir: a.dir,
    serverDir: b.dir,
  };
}
