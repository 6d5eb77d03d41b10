// Desktop notifications (`tether mount --notify`, issue 16 item 6): the events a user should
// see without asking (mode changes, conflicts found, data unavailable, cache full,
// auth-required) are sent through `notify-send` where it exists. A burst of one kind (a sync
// that finds forty conflicts, a build reading many files never fetched) becomes one
// notification now and one summary when the kind's quiet gap ends, never a flood. Without
// notify-send the daemon says once in its log that notifications are off. Sending never
// blocks the daemon: notify-send runs detached and is not waited for.
import { spawn } from 'node:child_process';
import type { VolumeEventRecord } from '../volume/events.js';
import { onPath } from './unmount.js';
import { msFromEnv } from '../agent/deadlines.js';

/** `tether mount --notify` reaches the daemon through its environment. */
export const NOTIFY_ENV = 'TETHER_NOTIFY';
/** One notification of a kind per this many ms (TETHER_NOTIFY_GAP_MS); the rest summarised. */
const GAP_MS = 30_000;

interface Note {
  readonly summary: string;
  readonly body: string;
  readonly urgency: 'low' | 'normal' | 'critical';
}

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** The notification of an event, or undefined for events that are not notified. */
function noteOf(e: VolumeEventRecord, volume: string): Note | undefined {
  switch (e.type) {
    case 'mode': {
      const failed = e['mode'] === 'offline:failure';
      return {
        summary: e['mode'] === 'online' ? `${volume} is online` : `${volume} is offline`,
        body: e['reason'] === undefined ? 'synced with the server' : text(e['reason']),
        urgency: failed ? 'normal' : 'low',
      };
    }
    case 'conflict':
      return {
        summary: `Conflict in ${volume}`,
        body: `${text(e['path'])} changed on both sides (${text(e['kind'])}): see "tether conflicts"`,
        urgency: 'normal',
      };
    case 'data-unavailable':
      return {
        summary: `Not available offline in ${volume}`,
        body: text(e['reason'] ?? e['path']),
        urgency: 'normal',
      };
    case 'cache-full':
      return {
        summary: `The cache of ${volume} is full`,
        body: 'writes fail until space is freed: unpin something or raise --cache-size',
        urgency: 'critical',
      };
    case 'auth-required':
      return {
        summary: `${volume}: the server refuses access`,
        body: `${text(e['reason'])}. Local changes are kept; the volume retries.`,
        urgency: 'critical',
      };
    default:
      return undefined;
  }
}

interface Kind {
  last: number;
  held: Note[];
  timer: NodeJS.Timeout | undefined;
}

export class Notifier {
  private readonly kinds = new Map<string, Kind>();
  private readonly gapMs: number;

  private constructor(
    private readonly program: string,
    private readonly volume: string,
    private readonly log: (line: string) => void,
  ) {
    this.gapMs = msFromEnv('TETHER_NOTIFY_GAP_MS', GAP_MS);
  }

  /** A notifier for `volume` (its mount point), or undefined when notify-send is missing. */
  static start(volume: string, log: (line: string) => void): Notifier | undefined {
    const program = onPath('notify-send');
    if (program === undefined) {
      log('notifications are off: notify-send is not installed (it is in libnotify-bin)');
      return undefined;
    }
    log(`notifications on, through ${program}`);
    return new Notifier(program, volume, log);
  }

  event(e: VolumeEventRecord): void {
    const note = noteOf(e, this.volume);
    if (note === undefined) return;
    let k = this.kinds.get(e.type);
    if (k === undefined) {
      k = { last: -Infinity, held: [], timer: undefined };
      this.kinds.set(e.type, k);
    }
    const now = Date.now();
    if (k.timer === undefined && now - k.last >= this.gapMs) {
      k.last = now;
      this.send(note);
      return;
    }
    k.held.push(note);
    if (k.timer === undefined) {
      const kind = k;
      kind.timer = setTimeout(
        () => {
          this.flush(kind);
        },
        kind.last + this.gapMs - now,
      );
      kind.timer.unref();
    }
  }

  /** Stop: what is held is dropped (the events themselves are in the log). */
  close(): void {
    for (const k of this.kinds.values()) if (k.timer !== undefined) clearTimeout(k.timer);
    this.kinds.clear();
  }

  private flush(k: Kind): void {
    k.timer = undefined;
    k.last = Date.now();
    const [first, ...more] = k.held;
    k.held = [];
    if (first === undefined) return;
    if (more.length === 0) {
      this.send(first);
      return;
    }
    const last = more[more.length - 1] ?? first;
    this.send({
      ...last,
      summary: `${last.summary} (and ${more.length} more)`,
      body: [first, ...more]
        .slice(0, 5)
        .map((n) => n.body)
        .join('\n'),
    });
  }

  private send(n: Note): void {
    const child = spawn(
      this.program,
      ['--app-name=tether', `--urgency=${n.urgency}`, n.summary, n.body],
      { stdio: 'ignore', detached: true },
    );
    child.on('error', (err) => {
      this.log(`a notification failed: ${err.message}`);
    });
    child.unref();
  }
}
