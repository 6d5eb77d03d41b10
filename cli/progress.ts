// Progress for long work: a bar on a terminal (stderr), nothing at all otherwise, so that
// scripts and logs see only the result.
import type { SingleBar } from 'cli-progress';

export interface Progress {
  update(value: number, label?: string): void;
  stop(): void;
}

const SILENT: Progress = { update: () => undefined, stop: () => undefined };

/** A bar counting `unit` up to `total` (an unknown total shows a running count). */
export function progress(task: string, unit: string, total?: number): Progress {
  if (!process.stderr.isTTY) return SILENT;
  const format =
    total === undefined
      ? `${task} {value} ${unit} {label}`
      : `${task} [{bar}] {percentage}% {value}/{total} ${unit} {label}`;
  let bar: SingleBar | undefined;
  let last = { value: 0, label: '' };
  let stopped = false;
  // Loaded only for a terminal, as the bar starts: cli-progress brings node:readline with it,
  // which would cost every command about 6 ms. Updates until then keep the latest count.
  import('cli-progress').then(
    ({ SingleBar }) => {
      if (stopped) return;
      bar = new SingleBar({
        format,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
        barsize: 30,
      });
      bar.start(total ?? 0, last.value, { label: last.label });
    },
    () => undefined, // no bar, then: the work goes on without one
  );
  return {
    update(value, label = '') {
      if (bar === undefined) last = { value, label };
      else bar.update(value, { label });
    },
    stop() {
      stopped = true;
      bar?.stop();
    },
  };
}
