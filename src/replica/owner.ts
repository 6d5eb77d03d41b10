// Giving a written file its recorded owner, where the server allows it. A share logged in as
// another user than ours (sshfs as an ordinary user, NFS with root_squash) refuses every
// chown away from that user: the file then keeps the owner the server gives it, as with any
// client of such a share, and the write goes on. The next scan reads that owner back, so base
// and the local view follow the server instead of the refusal repeating on every sync.
import { lchown, type FileHandle } from 'node:fs/promises';

/** The refusals that mean "this server does not let us choose owners", not an I/O failure. */
const REFUSED = new Set(['EPERM', 'EACCES', 'ENOTSUP', 'EOPNOTSUPP', 'EINVAL']);

/** The calls that set an owner (by path, by open file); tests replace them to play a server that refuses. */
export const ownerCalls = {
  lchown,
  fchown: (fh: FileHandle, uid: number, gid: number): Promise<void> => fh.chown(uid, gid),
};

let told = false;

/**
 * Set the owner of `p` (a path, its last component not followed, or an open file) to `uid`:`gid`. Answers false, and says so once per process in the log
 * (a share that refuses one file refuses them all), when the server refuses the change.
 */
export async function setOwner(p: Buffer | FileHandle, uid: number, gid: number): Promise<boolean> {
  try {
    await (Buffer.isBuffer(p) ? ownerCalls.lchown(p, uid, gid) : ownerCalls.fchown(p, uid, gid));
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === undefined || !REFUSED.has(code)) throw err;
    if (!told) {
      told = true;
      process.stderr.write(
        `tether: the server refused to set a file's owner (${code}); files keep the owner the ` +
          `server gives them (a share logged in as another user, or NFS with root_squash)\n`,
      );
    }
    return false;
  }
}
