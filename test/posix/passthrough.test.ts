// The POSIX differential suite through the passthrough fixture on the patched binding, with
// the settings conformance needs (no attribute or entry caching, kernel permission checks).
import test from 'ava';
import { differential } from './suite.js';
import { passthroughTarget } from './target.js';

differential(test, passthroughTarget(), {
  // FUSE 2's high-level API: the kernel's stat of an open file carries no file handle, and
  // with hard_remove the name is gone, so the path-based getattr has nothing to answer from.
  // (Without hard_remove a .fuse_hidden file stays in the directory and rmdir fails.) A
  // binding on node ids (libfuse 3 low-level, DESIGN 17) answers from the node.
  'unlink an open file': 'fstat after unlink is ENOENT on the FUSE 2 high-level API',
});
