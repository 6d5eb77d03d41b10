// The POSIX differential suite and the real programs through tether's volume mount, online
// and offline (`tether offline`), held to the local disk like the passthrough fixture. tether
// shows its own user.tether.* xattrs on every path by design (DESIGN 8); those are left out.
// The known differences below are the mount's open defects: each is a failing test, so it
// turns up as soon as it is fixed.
import test from 'ava';
import { programsDifferential } from './program-suite.js';
import { differential } from './suite.js';
import { tetherTarget } from './tether-target.js';

const known = {
  'unlink an open file':
    'an unlinked open file stays as .fuse_hidden* (no hard_remove), so its directory cannot be removed',
  'utimensat with UTIME_OMIT and UTIME_NOW':
    'a time before 1970 is set to now (node:fs takes a negative number of seconds as now)',
  'extended attributes': 'removing an xattr that is not there succeeds (ext4: ENODATA)',
  'paths longer than PATH_MAX': 'a path past PATH_MAX fails with ENAMETOOLONG',
};
const knownPrograms = {};

for (const mode of ['online', 'offline'] as const) {
  differential(test, tetherTarget(mode), known);
  programsDifferential(test, tetherTarget(mode), knownPrograms);
}
