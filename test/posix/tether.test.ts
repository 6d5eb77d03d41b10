// The POSIX differential suite and the real programs through tether's volume mount, online
// and offline (`tether offline`), held to the local disk like the passthrough fixture. tether
// shows its own user.tether.* xattrs on every path by design (DESIGN 8); those are left out.
// The known differences below are the mount's open defects: each is a failing test, so it
// turns up as soon as it is fixed.
import test from 'ava';
import { programsDifferential } from './program-suite.js';
import { differential } from './suite.js';
import { tetherTarget } from './tether-target.js';

const known = {};
const knownPrograms = {};

for (const mode of ['online', 'offline'] as const) {
  const cases = tetherTarget(mode);
  const programs = tetherTarget(mode);
  differential(test, cases, known);
  programsDifferential(test, programs, knownPrograms);
  if (mode === 'online' && cases.why === undefined) {
    // An online target must have stayed online, or its cases ran offline from some point on.
    const stayedOnline = (statuses: string[]): boolean =>
      statuses.length > 0 && statuses.every((s) => /: online /.test(s));
    test.serial('tether online: the volume stays online through the POSIX cases', (t) => {
      t.true(stayedOnline(cases.statuses), cases.statuses.join('\n').slice(0, 2000));
    });
    test.serial('tether online: the volume stays online through the real programs', (t) => {
      t.true(stayedOnline(programs.statuses), programs.statuses.join('\n').slice(0, 2000));
    });
  }
}
