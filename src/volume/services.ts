// What a daemon runs beside its mount: the remote agent (every remote call, with deadlines),
// the event log, automatic reconnection, pins and hoarding with the periodic re-walk while
// online; and the control requests that reach them (`tether mode|events|pin|unpin|pins|hoard`).
import { TetherError } from '../errors.js';
import type { Path } from '../merge/plan.js';
import type { Store } from '../store/store.js';
import { fromText } from '../tree/index.js';
import type { Request } from './control.js';
import { EventLog } from './events.js';
import { Hoarder } from './hoard.js';
import { Pins } from './pins.js';
import { Reconnector } from './reconnect.js';
import type { RemoteIo } from './remote-io.js';
import { MODE_TEXT } from './volume-mode.js';
import type { Volume } from './volume.js';
import { msFromEnv } from '../agent/deadlines.js';

/** The daemon re-walks the pins this often while online (ms; TETHER_HOARD_MS). */
const REHOARD_MS = 5 * 60_000;

export class Services {
  readonly io: RemoteIo;
  readonly events: EventLog;
  readonly pins: Pins;
  readonly hoarder: Hoarder;
  readonly reconnect: Reconnector;
  private rehoard: NodeJS.Timeout | undefined;

  constructor(
    private readonly volume: Volume,
    store: Store,
    /** The daemon's remote agent (made before the volume: it makes the first scan). */
    io: RemoteIo,
    log: (line: string) => void,
  ) {
    this.io = io;
    this.events = new EventLog(store.db('events'));
    this.pins = new Pins(store.db('pins'));
    const event = (type: string, data: Record<string, unknown>): void => {
      this.events.append(type, data);
    };
    this.hoarder = new Hoarder(volume, this.pins, event);
    this.reconnect = new Reconnector(volume, this.io, store.db('volume'), log);
    volume.remoteIo = this.io;
    io.keepBlobs = (batch) =>
      volume.learner.keeping(batch, (results) => results.flatMap((r) => ('id' in r ? [r.id] : [])));
    volume.onEvent = event;
  }

  start(): void {
    this.io.start();
    this.reconnect.start();
    this.rehoard = setInterval(
      () => {
        if (this.volume.mode === 'online' && this.pins.list().length > 0) this.hoarder.start();
      },
      msFromEnv('TETHER_HOARD_MS', REHOARD_MS),
    );
  }

  async close(): Promise<void> {
    this.reconnect.stop();
    if (this.rehoard !== undefined) clearInterval(this.rehoard);
    await this.hoarder.settled();
    this.io.close();
    await this.events.settled();
  }

  /** Answer a control request of these services; undefined when it is not one of theirs. */
  async control(req: Request): Promise<Record<string, unknown> | undefined> {
    const paths = (): Path[] =>
      Array.isArray(req['paths']) ? req['paths'].map((p) => fromText(String(p))) : [];
    switch (req.op) {
      case 'mode-set': {
        const m = req['reconnect'];
        if (m !== 'auto' && m !== 'manual') {
          throw new TetherError('EUSAGE', 'the mode is "auto" or "manual"');
        }
        await this.reconnect.setMode(m);
        return { reconnect: this.reconnect.mode, mode: this.modeText() };
      }
      case 'mode-get':
        return { reconnect: this.reconnect.mode, mode: this.modeText() };
      case 'events': {
        const since = typeof req['since'] === 'number' ? req['since'] : 0;
        return { events: this.events.since(since, 1000) };
      }
      case 'pin':
        for (const p of paths()) {
          await this.pins.add(p, req['recursive'] === true, Number(req['priority'] ?? 0));
        }
        return { pins: this.pins.list().length };
      case 'unpin': {
        let removed = 0;
        for (const p of paths()) if (await this.pins.remove(p)) removed++;
        return { removed };
      }
      case 'pins':
        return { pins: this.pins.list() };
      case 'hoard':
        if (this.volume.mode !== 'online') {
          throw new TetherError('EUSAGE', 'the volume is offline: hoard once it is online');
        }
        return { hoard: this.hoarder.start(paths()) };
      case 'hoard-status':
        return { hoard: this.hoarder.status() };
      default:
        return undefined;
    }
  }

  /** online, offline (asked), offline:failure (the remote failed) or auth-required. */
  modeText(): string {
    if (this.volume.mode === 'online') return 'online';
    return MODE_TEXT[this.volume.offlineCause];
  }
}
