// `tether events [PATH] [--follow] [--json]`: what happened to a volume (mode changes, syncs
// with their counts, conflicts, data unavailable, hoards), from its daemon, or from its store
// when it is not mounted (--store).
import { Command, Option } from 'clipanion';
import { TetherError } from '../src/errors.js';
import { describeEvent, EventLog, type VolumeEventRecord } from '../src/volume/events.js';
import { TetherCommand, withStore } from './base.js';
import { ask, locate } from './volume.js';

const POLL_MS = 300;

export class EventsCommand extends TetherCommand {
  static override paths = [['events']];
  static override usage = Command.Usage({
    category: 'Volumes',
    description: "show a volume's events (mode changes, syncs, conflicts, data unavailable)",
    details: `
      The last 10,000 events are kept in the volume's store. \`--follow\` waits for new ones;
      \`--json\` prints one JSON object per line (for programs and desktop integrations).
    `,
    examples: [
      ['What happened', '$0 events ~/work'],
      ['Watch, as JSON lines', '$0 events ~/work --follow --json'],
    ],
  });

  follow = Option.Boolean('--follow,-f', false, { description: 'Wait for new events' });
  asJson = Option.Boolean('--json', false, { description: 'One JSON object per line' });
  store = Option.String('--store', { description: 'Read the store of a volume not mounted' });
  target = Option.String({ name: 'PATH', required: false });

  async execute(): Promise<number> {
    if (this.store !== undefined) {
      const events = await withStore(this.store, (s) =>
        Promise.resolve(new EventLog(s.db('events')).since(0)),
      );
      this.print(events);
      return 0;
    }
    const l = locate(this.target ?? '.');
    if (l === undefined) {
      throw new TetherError(
        'EUSAGE',
        `${this.target ?? 'the current directory'} is not in a mounted volume: give a path inside one, or --store DIR`,
      );
    }
    let since = 0;
    for (;;) {
      const r = await ask(l, { op: 'events', since });
      const events = r['events'] as VolumeEventRecord[];
      this.print(events);
      since = events.at(-1)?.seq ?? since;
      if (!this.follow) return 0;
      if (events.length === 0) await new Promise((res) => setTimeout(res, POLL_MS));
    }
  }

  private print(events: readonly VolumeEventRecord[]): void {
    for (const e of events) {
      this.out(this.asJson ? JSON.stringify(e) : describeEvent(e));
    }
  }
}
