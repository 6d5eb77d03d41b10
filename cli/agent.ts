// The remote agent (not for users): started by a volume's daemon, it makes every call on the
// remote and answers over its IPC channel until the daemon goes.
import { TetherCommand } from './base.js';

export class AgentCommand extends TetherCommand {
  static override paths = [['__agent']];

  async execute(): Promise<number> {
    const { runAgent } = await import('../src/volume/agent-ops.js');
    await runAgent();
    return 0;
  }
}
