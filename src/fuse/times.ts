// A utimens time as node:fs sets it. node:fs takes seconds as a double and sets them to the
// microsecond by truncation, and takes a negative number for "now": a time before 1970 goes
// as a Date (set to the millisecond), any other as seconds with half a microsecond added, so
// the truncation lands on the intended microsecond.

/** The value to hand fs.utimes for `sec` seconds and `nsec` nanoseconds since 1970. */
export function fsTime(sec: bigint, nsec: bigint): number | Date {
  if (sec < 0n) return new Date(Number(sec) * 1000 + Math.floor(Number(nsec) / 1e6));
  return Number(sec) + (Math.floor(Number(nsec) / 1000) + 0.5) / 1e6;
}

/** The same from a time in nanoseconds since 1970 (a stat's atimeNs or mtimeNs). */
export function fsTimeNs(ns: bigint): number | Date {
  const sec = ns / 1_000_000_000n;
  const nsec = ns % 1_000_000_000n;
  // BigInt division truncates towards zero: a negative remainder borrows a second.
  return nsec < 0n ? fsTime(sec - 1n, nsec + 1_000_000_000n) : fsTime(sec, nsec);
}
