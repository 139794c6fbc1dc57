// The stores both runner fixtures test: core's in-memory stores, or (PASSGATE_FLAW=consume) the same
// stores with one promise broken, a consume that does not remove, so the runner must report failures.
import { createMemoryStores } from '@passgate/core';

export function createFixtureStores() {
  const stores = createMemoryStores();
  if (process.env.PASSGATE_FLAW !== 'consume') return { stores };
  const consume = async (id) => {
    const value = await stores.challenges.consume(id);
    if (value !== null) await stores.challenges.put(id, value, 60_000);
    return value;
  };
  return { stores: { ...stores, challenges: { put: stores.challenges.put, consume } } };
}

/** The default TTLs (robust on a loaded machine), fewer concurrent callers. */
export const options = { concurrency: 10, renaming: true };
