// The body of `tether mode auto|manual PATH` (cli/reconnect-mode.ts parses it; so does
// cli/thin.ts): whether a volume that went offline because its remote failed reconnects by
// itself or waits for `tether online`.
import { TetherError } from '../../src/errors.js';
import type { Io } from '../output.js';
import { ask, locateOrThrow } from '../volume.js';

export async function setReconnectMode(mode: string, target: string, io: Io): Promise<number> {
  if (mode !== 'auto' && mode !== 'manual') {
    throw new TetherError('EUSAGE', `the mode is "auto" or "manual", not "${mode}"`);
  }
  const l = locateOrThrow(target);
  const r = await ask(l, { op: 'mode-set', reconnect: mode });
  io.out(`${l.mountpoint}: ${String(r['mode'])}, reconnect ${String(r['reconnect'])}`);
  return 0;
}
