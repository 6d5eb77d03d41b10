// Real programs (git, tar, cp -a, rsync -a, an editor's save, make) in the passthrough
// fixture's mount, compared with the same commands on the local disk.
import test from 'ava';
import { programsDifferential } from './program-suite.js';
import { passthroughTarget } from './target.js';

programsDifferential(test, passthroughTarget());
