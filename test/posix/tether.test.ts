// The POSIX differential suite and the real programs through tether's volume mount, online
// and offline (`tether offline`), held to the local disk like the passthrough fixture.
import test from 'ava';
import { programsDifferential } from './program-suite.js';
import { differential } from './suite.js';
import { tetherTarget } from './tether-target.js';

for (const mode of ['online', 'offline'] as const) {
  differential(test, tetherTarget(mode));
  programsDifferential(test, tetherTarget(mode));
}
