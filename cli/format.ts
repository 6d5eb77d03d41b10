// Small text formats shared by commands' human output.
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]!}`;
}

/** Octal permission bits as ls prints them in numbers (644, 4755). */
export function formatMode(mode: number): string {
  return mode.toString(8).padStart(3, '0');
}
