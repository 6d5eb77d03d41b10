// Giving a written file its recorded owner, where the server allows it. A share logged in as
// another user than ours (sshfs as an ordinary user, NFS with root_squash) refuses every
// chown away from that user: the file then keeps the owner the server gives it, as with any
// client of such a share, and the write goes on. The next scan reads that owner back, so base
// and the local view follow the server instead of the refusal repeating on every sync.
import { lchown } from 'node:fs/promises';

/** The refusals that mean "this server does not let us choose owners", not an I/O failure. */
const REFUSED = new Set(['EPERM', 'EACCES', 'ENOTSUP', 'EOPNOTSUPP', 'EINVAL']);

/** The call that sets an owner; tests replace it to play a server that refuses. */
export const ownerCalls = { lchown };

let told = false;

/**
 * Set the owner of `p` to `uid`:`gid`. Answers false, and says so once per process in the log
 * (a share that refuses one file refuses them all), when the server refuses the change.
 */
export async function setOwner(p: Buffer, uid: number, gid: number): Promise<boolean> {
  try {
    await ownerCalls.lchown(p, uid, gid);
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
