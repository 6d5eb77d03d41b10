// Which server directories sync-dirs reaches only through the remote agent: those whose
// mount (the longest mount point holding the path, read from mountinfo without touching the
// directory) is not known to be a local disk.
import test from 'ava';
import { fileSystemOf, mayHang } from '../../src/sync/network-fs.js';

const MOUNTINFO = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '30 22 0:25 / /tmp rw shared:2 - tmpfs tmpfs rw',
  '41 22 0:40 / /mnt/share rw,nosuid - fuse.sshfs user@host:/srv rw',
  '42 22 0:41 / /mnt/nfs\\040home rw - nfs4 server:/home rw',
  '43 41 8:1 / /mnt/share/local rw - ext4 /dev/sda1 rw',
  '',
].join('\n');

test('the mount holding a path decides, by its longest mount point', (t) => {
  t.is(fileSystemOf('/home/user/work', MOUNTINFO), 'ext4');
  t.is(fileSystemOf('/tmp/x', MOUNTINFO), 'tmpfs');
  t.is(fileSystemOf('/mnt/share', MOUNTINFO), 'fuse.sshfs');
  t.is(fileSystemOf('/mnt/share/a/b', MOUNTINFO), 'fuse.sshfs');
  t.is(fileSystemOf('/mnt/shared', MOUNTINFO), 'ext4', 'a prefix of a name is no parent');
  t.is(fileSystemOf('/mnt/nfs home/u', MOUNTINFO), 'nfs4', 'escaped spaces');
  t.is(fileSystemOf('/mnt/share/local/x', MOUNTINFO), 'ext4');
});

test('network and FUSE file systems may hang; local disks and unknown mountinfo', (t) => {
  t.false(mayHang('/home/user', MOUNTINFO));
  t.false(mayHang('/tmp', MOUNTINFO));
  t.true(mayHang('/mnt/share/x', MOUNTINFO));
  t.true(mayHang('/mnt/nfs home', MOUNTINFO));
  t.false(mayHang('/mnt/share/local', MOUNTINFO));
  t.true(mayHang('/x', ''), 'nothing known: treated as one that may hang');
});
