// The Lister conformance suite against the directory lister as built: each directory listed
// by the native helper on a worker thread, xattrs read by byte path in C.
import test from 'ava';
import { dirLister } from '../../src/scan/lister.js';
import { lister } from '../../src/scan/list-dir.js';
import { listerConformance } from './lister-conformance.js';

test('the native helper is what this process lists with', (t) => {
  t.is(lister, 'native', 'build it with "npm run build:native" (needs make and a C compiler)');
});

listerConformance({ name: 'native directory lister', make: dirLister });
