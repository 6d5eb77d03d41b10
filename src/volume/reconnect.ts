// Automatic reconnection (DESIGN decision 6): in `auto` mode, a volume that went offline
// because the remote failed is probed with back-off (1 s doubling to 30 s); once the server
// answers, the volume syncs and goes online. A volume whose server refuses its user
// (auth-required) is retried the same way: access may come back without anyone saying so. A
// volume taken offline by hand, or any volume in `manual` mode, stays offline until `tether
// online`. Never two syncs at once: going online runs in the volume's one-at-a-time chain, and
// the probe waits for it. The probe asks the server itself (fresh: statfs), not only for the
// root's attributes and listing: a client may answer those from its caches for a dead server (a
// FUSE remote whose kernel keeps listings opens directories without asking it), and a volume
// would then go online to a server that is not there.
import { asBytes, type KvDb } from '../store/kv.js';
import { isAuthTrouble } from '../sync/auth-trouble.js';
import type { RemoteIo } from './remote-io.js';
import type { Volume } from './volume.js';

export type ReconnectMode = 'auto' | 'manual';

const KEY = Buffer.from('reconnect');
export const MIN_MS = 1000;
export const MAX_MS = 30_000;

export class Reconnector {
  private timer: NodeJS.Timeout | undefined;
  private delay: number;
  private stopped = false;
  private modeNow: ReconnectMode;

  constructor(
    private readonly volume: Volume,
    private readonly io: RemoteIo,
    private readonly db: KvDb,
    private readonly log: (line: string) => void,
    private readonly minMs = MIN_MS,
    private readonly maxMs = MAX_MS,
  ) {
    this.delay = minMs;
    this.modeNow = asBytes(db.get(KEY))?.toString() === 'manual' ? 'manual' : 'auto';
  }

  get mode(): ReconnectMode {
    return this.modeNow;
  }

  async setMode(mode: ReconnectMode): Promise<void> {
    this.modeNow = mode;
    await this.db.put(KEY, Buffer.from(mode));
    this.delay = this.minMs;
    this.schedule(0);
  }

  start(): void {
    this.schedule(this.minMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private wanted(): boolean {
    return (
      this.modeNow === 'auto' &&
      this.volume.mode === 'offline' &&
      this.volume.offlineCause !== 'manual'
    );
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, ms);
  }

  private async tick(): Promise<void> {
    if (!this.wanted()) {
      this.delay = this.minMs;
      this.schedule(this.minMs);
      return;
    }
    try {
      await this.io.probe(true);
      this.log('the remote answers again: reconnecting');
      await this.volume.goOnline();
      this.delay = this.minMs;
    } catch (err) {
      this.log(`still offline: ${(err as Error).message}`);
      // The server answers but refuses this user: auth-required, retried all the same.
      if (isAuthTrouble(err)) await this.volume.goOffline((err as Error).message, 'auth');
      this.delay = Math.min(this.delay * 2, this.maxMs);
    }
    this.schedule(this.delay);
  }
}
