// The mount's tests again on the fuse-native binding (the other files run them on the
// default, low-level binding), so both bindings are held to the same suites.
import '../posix/use-fuse-native.js';
import './online.test.js';
import './offline-cycle.test.js';
import './programs.test.js';
import './crash.test.js';
import './bad-input.test.js';
import './partial.test.js';
