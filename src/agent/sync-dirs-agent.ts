// `tether sync-dirs` with a server directory that may hang (sync/network-fs.ts): the run is made by
// the remote agent (sync-dirs-op.ts) while a second agent asks the server directory every
// second (watched-call.ts) whether it still answers, within the metadata deadline (TETHER_DEADLINE_MS, 2 s).
// When it does not, the run's agent is killed and abandoned, never awaited (DESIGN decision 2:
// a process blocked on a hung share cannot even be killed until the server answers), and the
// command ends at once with a message saying what hung and what to do. A run cut short in its
// apply left its plan in the store; the next run finishes it before it scans.
import { AgentCallError, AgentClient, type AgentSpawn } from './client.js';
import { callWatched } from './watched-call.js';
import type { SyncDirsArgs } from './sync-dirs-op.js';
import { TetherError } from '../errors.js';
import { deadlinesFromEnv, defaultAgentSpawn, type Deadlines } from './deadlines.js';
import type { SyncPhase, SyncSummary } from '../sync/sync-dirs.js';

export async function syncDirsByAgent(
  args: SyncDirsArgs,
  onPhase?: (phase: SyncPhase) => void,
  deadlines: Deadlines = deadlinesFromEnv(),
  how: AgentSpawn = defaultAgentSpawn(),
): Promise<SyncSummary> {
  const agent = new AgentClient(how);
  const prober = new AgentClient(how);
  agent.start();
  prober.start();
  try {
    return await callWatched<SyncSummary>('sync-dirs', args, {
      agent,
      prober,
      probe: { remote: args.server },
      metaMs: deadlines.metaMs,
      runMs: deadlines.syncMs,
      silence: 'the server directory stopped answering',
      onPhase,
    });
  } catch (err) {
    throw explained(err, args.server, deadlines.metaMs);
  } finally {
    agent.close();
    prober.close();
  }
}

/** The agent's failure as the command's: a hung server said as such, usage errors as usage. */
function explained(err: unknown, server: string, metaMs: number): unknown {
  if (!(err instanceof AgentCallError)) return err;
  if (err.remoteCode === 'EUSAGE') return new TetherError('EUSAGE', err.message);
  if (!err.transport || err.remoteCode !== 'ETIMEDOUT') return err;
  return new TetherError(
    'EIO',
    `the server directory ${server} stopped answering (nothing within ${metaMs / 1000} s: a ` +
      `network share whose server hangs, or whose link is lost), so the run was stopped. What ` +
      `it applied is kept and the next run finishes what it had planned. Check the server and ` +
      `the network (or remount the share), then run "tether sync-dirs" again`,
    { server },
    { cause: err, errno: 'ETIMEDOUT' },
  );
}
