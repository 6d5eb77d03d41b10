// The in-memory store keeps the same contract as the LMDB one.
import { MemoryStore } from '../../src/store/memory.js';
import { conformance } from './conformance.js';

conformance('memory', () => {
  const store = new MemoryStore();
  return Promise.resolve({
    store,
    tamper: (id, bytes) => {
      store.tamper(id, bytes);
      return Promise.resolve(store);
    },
    close: () => store.close(),
  });
});
