import { setTimeout as sleep } from 'node:timers/promises';
import { concurrently, settle } from './assertions.js';
import type { SuiteContext } from './context.js';
import { expect } from './expect.js';
import { randomCeremonyId, unicodeString, utf8StringOfBytes } from './fixtures.js';

/** A TTL no test waits out. */
const LONG_TTL_MS = 10 * 60_000;

/** Contract tests for `ChallengeStore` (see its doc comment in `@passgate/core`). */
export function describeChallengeStoreContract(ctx: SuiteContext): void {
  const { describe, it } = ctx.runner;
  describe('ChallengeStore', () => {
    const store = () => ctx.stores().challenges;
    const expiryTimeout = ctx.ttlMs + ctx.ttlSlackMs + 10_000;

    it('put then consume returns the value', async () => {
      const id = randomCeremonyId();
      expect(await store().put(id, '{"challenge":"abc"}', LONG_TTL_MS)).toBe(true);
      expect(await store().consume(id)).toBe('{"challenge":"abc"}');
    });

    it('consume is single-use: the second consume resolves null', async () => {
      const id = randomCeremonyId();
      await store().put(id, 'once', LONG_TTL_MS);
      expect(await store().consume(id)).toBe('once');
      expect(await store().consume(id)).toBeNull();
    });

    it('consume of an id never stored resolves null', async () => {
      expect(await store().consume(randomCeremonyId())).toBeNull();
    });

    it('put on a pending id resolves false and keeps the existing value', async () => {
      const id = randomCeremonyId();
      expect(await store().put(id, 'first', LONG_TTL_MS)).toBe(true);
      expect(await store().put(id, 'second', LONG_TTL_MS)).toBe(false);
      expect(await store().consume(id)).toBe('first');
    });

    it('an id can be put again once consumed', async () => {
      const id = randomCeremonyId();
      await store().put(id, 'first', LONG_TTL_MS);
      await store().consume(id);
      expect(await store().put(id, 'second', LONG_TTL_MS)).toBe(true);
      expect(await store().consume(id)).toBe('second');
    });

    it(
      'a value expires after its TTL, while a long-TTL value is still there',
      async () => {
        const short = randomCeremonyId();
        const long = randomCeremonyId();
        const reused = randomCeremonyId();
        expect(await store().put(short, 'short', ctx.ttlMs)).toBe(true);
        expect(await store().put(reused, 'old', ctx.ttlMs)).toBe(true);
        expect(await store().put(long, 'long', LONG_TTL_MS)).toBe(true);
        await sleep(ctx.ttlMs + ctx.ttlSlackMs);
        expect(await store().consume(short), 'expired value').toBeNull();
        expect(await store().consume(long), 'long-TTL value').toBe('long');
        // An expired id is no longer pending, so it can be put again.
        expect(await store().put(reused, 'new', LONG_TTL_MS), 'put on an expired id').toBe(true);
        expect(await store().consume(reused)).toBe('new');
      },
      expiryTimeout,
    );

    it('of concurrent consumers of one id, exactly one gets the value', async () => {
      const id = randomCeremonyId();
      await store().put(id, 'prize', LONG_TTL_MS);
      const { fulfilled, rejectedCodes } = settle(
        await concurrently(ctx.concurrency, () => store().consume(id)),
      );
      expect(rejectedCodes).toEqual([]);
      expect(fulfilled.filter((v) => v !== null)).toEqual(['prize']);
    });

    it('of concurrent puts on one id, exactly one succeeds and its value is kept', async () => {
      const id = randomCeremonyId();
      const { fulfilled, rejectedCodes } = settle(
        await concurrently(ctx.concurrency, (i) => store().put(id, `value ${i}`, LONG_TTL_MS)),
      );
      expect(rejectedCodes).toEqual([]);
      const winners = fulfilled.flatMap((stored, i) => (stored ? [i] : []));
      expect(winners).toHaveLength(1);
      expect(await store().consume(id)).toBe(`value ${winners[0]}`);
    });

    it('a value of 64 KiB of multi-byte UTF-8 round-trips exactly', async () => {
      const id = randomCeremonyId();
      const value = utf8StringOfBytes(64 * 1024);
      expect(Buffer.byteLength(value, 'utf8')).toBe(64 * 1024);
      expect(await store().put(id, value, LONG_TTL_MS)).toBe(true);
      const back = await store().consume(id);
      expect(back?.length).toBe(value.length);
      expect(back === value, 'value round-trips exactly').toBe(true);
    });

    it('arbitrary Unicode values round-trip exactly', async () => {
      const values = [
        unicodeString(200),
        '😀',
        '\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}',
        'e\u0301 vs \u00e9', // NFD and NFC: no normalisation
        ' leading and trailing spaces\t\r\n ',
        'mid\uFEFFBOM and \u{10FFFF} and \u2028\u2029',
        '"quotes" \'single\' \\backslash\\ %s $1 \u0001\u001f',
        '',
      ];
      const ids = values.map(() => randomCeremonyId());
      for (const [i, value] of values.entries())
        expect(await store().put(ids[i]!, value, LONG_TTL_MS)).toBe(true);
      for (const [i, value] of values.entries()) {
        expect(await store().consume(ids[i]!), `value #${i} ${JSON.stringify(value)}`).toBe(value);
      }
    });

    it('many ids are independent of each other', async () => {
      const entries = Array.from({ length: 100 }, (_, i) => [randomCeremonyId(), `value ${i}`] as const);
      await Promise.all(entries.map(([id, value]) => store().put(id, value, LONG_TTL_MS)));
      // Consume every other one first; the rest must be untouched by it.
      for (const [id, value] of entries.filter((_, i) => i % 2 === 0))
        expect(await store().consume(id)).toBe(value);
      for (const [id, value] of entries.filter((_, i) => i % 2 === 1).reverse()) {
        expect(await store().consume(id)).toBe(value);
      }
      for (const [id] of entries) expect(await store().consume(id)).toBeNull();
    });
  });
}
