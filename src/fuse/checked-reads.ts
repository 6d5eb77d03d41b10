// Open files whose reads must be checked before they are served: a partially fetched file
// (DESIGN decision 5), whose missing ranges are holes that read as zeros locally but are not
// its content. Such a descriptor's reads go through the handlers (handlers.ts), never straight
// to the file: the low-level binding neither serves them on its session thread nor lets the
// kernel keep their pages (lowlevel-files.ts).

/** How a read of a partial file is served. */
export interface ReadCheck {
  /**
   * Runs `read` once bytes [pos, pos + len) may be read from the file (fetching them where it
   * can), and keeps them there until it is done; rejects with the error to answer (ENODATA
   * where they are not here).
   */
  serve<T>(pos: number, len: number, read: () => Promise<T>): Promise<T>;
  /** The descriptor is closed. */
  close?(): void;
}

export class CheckedReads {
  private readonly byFd = new Map<number, ReadCheck>();

  add(fd: number, c: ReadCheck): void {
    this.byFd.set(fd, c);
  }

  get(fd: number): ReadCheck | undefined {
    return this.byFd.get(fd);
  }

  has(fd: number): boolean {
    return this.byFd.has(fd);
  }

  delete(fd: number): void {
    this.byFd.get(fd)?.close?.();
    this.byFd.delete(fd);
  }
}
