// The POSIX differential suite through the passthrough fixture on tether's low-level binding,
// at the settings tether's mount runs at (long cache lifetimes, kernel permission checks).
import test from 'ava';
import { differential } from './suite.js';
import { passthroughTarget } from './target.js';

differential(test, passthroughTarget());
