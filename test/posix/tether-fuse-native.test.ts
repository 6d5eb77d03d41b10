// The POSIX suite and the real programs through tether's mount on the fuse-native binding,
// the same cases that tether.test.ts runs on the default (low-level) binding.
import './use-fuse-native.js';
import './tether.test.js';
