// The volume's calls on the remote, each made by the remote agent with a deadline (DESIGN
// decision 2): 2 s for metadata (TETHER_DEADLINE_MS), and for transfers a deadline on lack of
// progress (TETHER_IDLE_MS), not on size. A missed deadline replaces the agent and fails the
// call as a transport error; the volume then goes offline and answers from its cache.
import type { Path } from '../merge/plan.js';
import { AgentClient, type AgentSpawn } from '../agent/client.js';
import { deadlinesFromEnv, defaultAgentSpawn, type Deadlines } from '../agent/deadlines.js';
import { callWatched } from '../agent/watched-call.js';
import type {
  BatchArgs,
  FirstScanArgs,
  OwnerArgs,
  ProbeArgs,
  RangeArgs,
  StampArgs,
  SyncArgs,
  WholeArgs,
} from './agent-ops.js';
import type { Hash } from '../tree/index.js';
import type { SyncPhase } from '../sync/sync-dirs.js';
import type { BatchResult } from './batch-copy.js';
import type { RangeSource } from './partial-fetch.js';
import { WholeBatches } from './whole-batches.js';
import type { ServerStamp } from './ranges.js';
import type { Composed, VolumeSyncSummary } from './volume-sync.js';

/** How often a running sync checks that the remote still answers (ms). */

export class RemoteIo {
  /** Fetches and syncs. */
  readonly agent: AgentClient;
  /** Probes: whether the server answers, also while the other agent is busy or stuck. */
  readonly prober: AgentClient;
  /** A hoard's small files, copied many per request (whole-batches.ts). */
  private readonly batches: WholeBatches;
  /**
   * Set by the volume's services: a hoard's batches then keep their files in the store too
   * (the agent stores each file's bytes as it copies them, so they are read and hashed once),
   * each batch run through this (the learner's `keeping`: a gc waits for it and keeps what it
   * stored until base names it).
   */
  keepBlobs: ((batch: () => Promise<BatchResult[]>) => Promise<BatchResult[]>) | undefined;

  constructor(
    private readonly storeDir: string,
    private readonly remote: string,
    private readonly local: string,
    readonly deadlines: Deadlines = deadlinesFromEnv(),
    how: AgentSpawn = defaultAgentSpawn(),
    log: (line: string) => void = () => undefined,
  ) {
    this.agent = new AgentClient(how, log);
    this.prober = new AgentClient(how, log);
    this.batches = new WholeBatches((files) => {
      const call = (args: BatchArgs): Promise<BatchResult[]> =>
        this.agent.call('copyBatch', args, {
          deadlineMs: this.deadlines.metaMs,
          idleMs: this.deadlines.idleMs,
        });
      const args: BatchArgs = { remote: this.remote, local: this.local, files };
      const keep = this.keepBlobs;
      return keep === undefined
        ? call(args)
        : keep(() => call({ ...args, storeDir: this.storeDir }));
    });
  }

  /**
   * Resolves when the server answers (its root can be listed) within the deadline; `fresh`:
   * the server itself answers, not a cache of the network filesystem (ProbeArgs).
   */
  async probe(fresh = false): Promise<void> {
    const args: ProbeArgs = { remote: this.remote, fresh };
    await this.prober.call('probe', args, { deadlineMs: this.deadlines.metaMs });
  }

  /**
   * Fetching through the agent: a stamp is metadata (its deadline); each range is one request
   * whose deadline restarts at each read it makes (lack of progress, not size). Several ranges
   * may be in flight at once: the agent serves requests concurrently.
   */
  get ranges(): RangeSource {
    return {
      stamp: (path: Path, from: Path = path): Promise<ServerStamp> => {
        const args: StampArgs = { remote: this.remote, path, from };
        return this.agent.call('stamp', args, { deadlineMs: this.deadlines.metaMs });
      },
      copy: async (path, start, end, expect, from = path) => {
        const args: RangeArgs = {
          remote: this.remote,
          local: this.local,
          path,
          from,
          start,
          end,
          expect,
        };
        await this.agent.call('copyRange', args, {
          deadlineMs: this.deadlines.metaMs,
          idleMs: this.deadlines.idleMs,
        });
      },
      whole: (path, max, from = path) => {
        const args: WholeArgs = { remote: this.remote, local: this.local, path, from, max };
        return this.agent.call('copyWhole', args, {
          deadlineMs: this.deadlines.metaMs,
          idleMs: this.deadlines.idleMs,
        });
      },
    };
  }

  /**
   * The fetching for `op`: a hoard's small files go in batches (whole-batches.ts), each batch
   * one request with the deadlines of one file's (a first sign of life, then progress).
   */
  rangesFor(op: string): RangeSource {
    const ranges = this.ranges;
    if (op !== 'hoard') return ranges;
    return { ...ranges, whole: (path, max, from) => this.batches.whole(path, max, from) };
  }

  /**
   * One sync, run by the agent, watched by the prober (watched-call.ts): a sync is cut when the
   * server stops answering, never for its length or for being busy (the syncing agent may keep
   * its event loop for seconds at a time on a big tree).
   */
  async sync(
    dryRun: boolean,
    onPhase?: (phase: SyncPhase) => void,
    composed?: Composed,
  ): Promise<VolumeSyncSummary> {
    const args: SyncArgs = {
      storeDir: this.storeDir,
      local: this.local,
      remote: this.remote,
      dryRun,
      ...(composed === undefined ? {} : { composed }),
    };
    return callWatched<VolumeSyncSummary>('sync', args, {
      agent: this.agent,
      prober: this.prober,
      // The root's stat and statfs: statfs reaches the server itself, where a network
      // filesystem may answer a stat from its caches long after the server stopped answering.
      probe: { remote: this.remote, list: false, fresh: true },
      metaMs: this.deadlines.metaMs,
      runMs: this.deadlines.syncMs,
      silence: 'the remote stopped answering during a sync',
      onPhase,
    });
  }

  /**
   * A first mount's scan of the server (by stamps, into the store), run by the agent and
   * watched as a sync is: cut when the server stops answering the probes, never for the size
   * of the tree or of one directory.
   */
  async firstScan(): Promise<Hash> {
    const args: FirstScanArgs = { storeDir: this.storeDir, remote: this.remote };
    return callWatched<Hash>('firstScan', args, {
      agent: this.agent,
      prober: this.prober,
      // The root's stat and statfs: statfs reaches the server itself, where a network
      // filesystem may answer a stat from its caches long after the server stopped answering.
      probe: { remote: this.remote, list: false, fresh: true },
      metaMs: this.deadlines.metaMs,
      runMs: this.deadlines.syncMs,
      silence: 'the remote stopped answering during the first scan',
    });
  }

  /** chown on the remote, within the metadata deadline (-1 leaves an id as it is). */
  async owner(path: Path, uid: number, gid: number): Promise<void> {
    const args: OwnerArgs = { remote: this.remote, path, uid, gid };
    await this.agent.call('owner', args, { deadlineMs: this.deadlines.metaMs });
  }

  /** Start both agents (their start-up then counts against no call's deadline). */
  start(): void {
    this.agent.start();
    this.prober.start();
  }

  close(): void {
    this.agent.close();
    this.prober.close();
  }
}
