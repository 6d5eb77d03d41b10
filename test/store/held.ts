// Which of some contents a store holds, read from a closed store (read-only).
import { Store } from '../../src/store/store.js';
import { hashBytes } from '../../src/tree/index.js';

export async function held(store: string, contents: readonly Buffer[]): Promise<boolean[]> {
  const s = await Store.open(store, { readOnly: true });
  try {
    return contents.map((c) => s.has(hashBytes(c)));
  } finally {
    await s.close();
  }
}
