// Progress for long work: a bar on a terminal (stderr), nothing at all otherwise, so that
// scripts and logs see only the result.
import { SingleBar } from 'cli-progress';

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
  const bar = new SingleBar({
    format,
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
    barsize: 30,
  });
  bar.start(total ?? 0, 0, { label: '' });
  return {
    update(value, label = '') {
      bar.update(value, { label });
    },
    stop() {
      bar.stop();
    },
  };
}
