// `tether events [PATH] [--follow] [--json]`: what happened to a volume (mode changes, syncs
// with their counts, conflicts, data unavailable, hoards), from its daemon, or from its store
// when it is not mounted (--store; the daemon's part is cli/run/events.ts).
import { Command, Option } from 'clipanion';
import { EventLog } from '../src/volume/events.js';
import { TetherCommand, withStore } from './base.js';
import { daemonEvents, printEvents } from './run/events.js';

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
    if (this.store === undefined) {
      return daemonEvents(this.target, { follow: this.follow, asJson: this.asJson }, this.io);
    }
    const events = await withStore(this.store, (s) =>
      Promise.resolve(new EventLog(s.db('events')).since(0)),
    );
    printEvents(events, this.asJson, this.io);
    return 0;
  }
}
