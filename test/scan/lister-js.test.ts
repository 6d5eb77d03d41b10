// The Lister conformance suite against the directory lister without the native helper (as
// where it is not built): TETHER_NATIVE=0 is set before any module that loads the helper, so
// listings, xattrs and hashes go through plain Node calls and the xattr binding.
import test from 'ava';
import { listerConformance } from './lister-conformance.js';

process.env['TETHER_NATIVE'] = '0';
const { dirLister } = await import('../../src/scan/lister.js');
const { lister } = await import('../../src/scan/list-dir.js');

test('the JavaScript fallback is what this process lists with', (t) => {
  t.is(lister, 'js');
});

listerConformance({ name: 'JavaScript directory lister', make: dirLister });
