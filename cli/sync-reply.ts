// What `tether sync` and `tether online` print of the daemon's answer about a sync: every
// action that failed and every path skipped (each is retried by the next sync), and every
// action done another way than planned (a hard link the server refused, made as a copy),
// never hidden behind a count.
export interface SyncReply {
  readonly applied: number;
  readonly open: number;
  readonly failures: readonly { path: string; reason: string }[];
  readonly problems: readonly { path: string; reason: string }[];
  readonly notes: readonly { path: string; note: string }[];
}

export function syncReplyOf(r: Record<string, unknown>): SyncReply {
  const list = (v: unknown): { path: string; reason: string }[] =>
    Array.isArray(v) ? (v as { path: string; reason: string }[]) : [];
  return {
    applied: Number(r['applied'] ?? 0),
    open: Number(r['open'] ?? 0),
    failures: list(r['failures']),
    problems: list(r['problems']),
    notes: Array.isArray(r['notes']) ? (r['notes'] as { path: string; note: string }[]) : [],
  };
}

/** One line per failure and skipped path (each reason names its path). */
export function troubleLines(s: SyncReply): string[] {
  return [
    ...s.failures.map((f) => `failed: ${f.reason}`),
    ...s.problems.map((p) => `skipped: ${p.reason}`),
    ...s.notes.map((n) => `note: ${n.note}`),
  ];
}

/** ", 2 failed, 1 skipped" (nothing when none). */
export function troubleCounts(s: SyncReply): string {
  return (
    (s.failures.length > 0 ? `, ${s.failures.length} failed` : '') +
    (s.problems.length > 0 ? `, ${s.problems.length} skipped` : '')
  );
}
