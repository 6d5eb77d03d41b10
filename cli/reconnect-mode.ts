// `tether mode auto|manual PATH`: whether a volume that went offline because its remote failed
// reconnects by itself (auto: probed with back-off, then synced) or waits for `tether online`
// (cli/run/reconnect-mode.ts).
import { Command, Option } from 'clipanion';
import { TetherCommand } from './base.js';
import { setReconnectMode } from './run/reconnect-mode.js';

export class ModeCommand extends TetherCommand {
  static override paths = [['mode']];
  static override usage = Command.Usage({
    category: 'Volumes',
    description: 'reconnect automatically when the server is back (auto), or only when asked',
    details: `
      In \`auto\` (the default) a volume that went offline because its remote failed or did
      not answer in time is probed with back-off (1 s to 30 s) and synced once the server
      answers. In \`manual\` it stays offline until \`tether online\`. A volume taken offline
      with \`tether offline\` is never reconnected automatically.
    `,
    examples: [
      ['Reconnect by itself', '$0 mode auto ~/work'],
      ['Stay offline until asked', '$0 mode manual ~/work'],
    ],
  });

  mode = Option.String({ name: 'auto|manual' });
  target = Option.String({ name: 'PATH' });

  execute(): Promise<number> {
    return setReconnectMode(this.mode, this.target, this.io);
  }
}
