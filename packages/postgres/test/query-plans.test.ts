import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStores, migrate } from '../src/index.js';
import { account, b64u, credential, dropSchema, newPool, onSentQueries, randomSchema } from './helpers.js';

/**
 * How PostgreSQL plans the statements that consume a ceremony: every table read by key (the
 * challenges by their primary key or by ctid), whatever else the tables hold. Each statement is
 * planned as node-postgres's prepared
 * statements end up being run, with a generic plan (`plan_cache_mode = force_generic_plan`), over a
 * table that was never analyzed and holds 1,000 pending ceremonies. With an index on expires_at
 * there (migration 1 made one, migration 3 drops it), the batched consume was planned as a scan of
 * that index for `expires_at > now()`, which visits every pending ceremony on each sign-in. Last, the
 * batched counter update, which is left to PostgreSQL's statistics: its plans before and after the
 * credentials table is first analyzed.
 */

const pool = newPool();
const schema = randomSchema('plans');
/** The text of every prepared statement the stores sent. */
const texts = new Set<string>();

const stores = createPostgresStores({
  pool: onSentQueries(pool, (config) => {
    if (typeof config !== 'string') texts.add(config.text);
  }),
  schema,
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodesOf(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodesOf)];
}

/**
 * Every node of the plan PostgreSQL runs `text` with, for the parameters `args` (SQL literals): its
 * generic plan, planned now (`plan_cache_mode = force_generic_plan`), or with `runs`, the plan
 * PostgreSQL chooses itself on a connection that has run the statement that many times already (and
 * then awaited `meanwhile`), with how many of those runs used a generic plan.
 */
async function planOf(
  text: string,
  args: string,
  { runs, meanwhile }: { runs?: number; meanwhile?: () => Promise<void> } = {},
): Promise<{ nodes: PlanNode[]; genericRuns: number }> {
  const client = await pool.connect();
  try {
    if (runs === undefined) await client.query('SET plan_cache_mode = force_generic_plan');
    await client.query(`PREPARE planned AS ${text}`);
    for (let i = 0; i < (runs ?? 0); i++) await client.query(`EXECUTE planned(${args})`);
    const counted = await client.query<{ generic_plans: string }>(
      `SELECT generic_plans FROM pg_prepared_statements WHERE name = 'planned'`,
    );
    await meanwhile?.();
    const res = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) EXECUTE planned(${args})`,
    );
    return {
      nodes: nodesOf(res.rows[0]!['QUERY PLAN'][0].Plan),
      genericRuns: Number(counted.rows[0]?.generic_plans),
    };
  } finally {
    await client.query('DEALLOCATE ALL').catch(() => {});
    client.release(true);
  }
}

const TABLES = ['passgate_challenges', 'passgate_credentials', 'passgate_accounts'];
/** Scans that read only the rows asked for: by an index, or by ctid. */
const BY_KEY = new Set(['Index Scan', 'Index Only Scan', 'Bitmap Index Scan', 'Tid Scan']);

/**
 * Each scan of the adapter's tables: its node type and the index (or, without one, the table) it
 * reads. A Bitmap Heap Scan only fetches what its Bitmap Index Scan found, so the index scan below
 * it stands for it.
 */
function scansOf(nodes: PlanNode[]): { type: string; reads: string }[] {
  return nodes
    .filter((node) => node['Node Type'].endsWith('Scan') && node['Node Type'] !== 'Bitmap Heap Scan')
    .map((node) => ({ type: node['Node Type'], reads: node['Index Name'] ?? node['Relation Name'] ?? '' }))
    .filter((scan) => TABLES.some((table) => scan.reads.startsWith(table)));
}

beforeAll(async () => {
  await migrate({ pool, schema });
  // Every test here needs tables PostgreSQL has never analyzed, whatever the server's autovacuum does.
  for (const table of TABLES) {
    await pool.query(`ALTER TABLE "${schema}".${table} SET (autovacuum_enabled = off)`);
  }
  const owner = account();
  const key = credential(owner.userHandle);
  await stores.accounts.create(owner, key);
  // Send each consuming statement once: alone, and batched (two in one turn of the event loop).
  const ceremonies = [b64u(), b64u(), b64u(), b64u()];
  for (const id of ceremonies) expect(await stores.challenges.put(id, `state-${id}`, 60_000)).toBe(true);
  expect(await stores.challenges.consume(ceremonies[0]!)).toBe(`state-${ceremonies[0]}`);
  expect((await stores.signIn.consumeForSignIn(ceremonies[1]!, key.id)).ceremony).toBe(
    `state-${ceremonies[1]}`,
  );
  const batched = await Promise.all([
    stores.signIn.consumeForSignIn(ceremonies[2]!, key.id),
    stores.signIn.consumeForSignIn(ceremonies[3]!, key.id),
  ]);
  expect(batched.map((reads) => reads.ceremony)).toEqual([
    `state-${ceremonies[2]}`,
    `state-${ceremonies[3]}`,
  ]);
  // And the batched counter update: two passkeys' compare-and-sets in one turn.
  const second = credential(owner.userHandle);
  await stores.credentials.create(second);
  const updated = await Promise.all(
    [key, second].map((passkey) =>
      stores.credentials.updateAfterSignIn({
        id: passkey.id,
        expectedCounter: passkey.counter,
        counter: passkey.counter + 1,
        backedUp: true,
        lastUsedAt: new Date(),
      }),
    ),
  );
  expect(updated.map((passkey) => passkey?.counter)).toEqual([key.counter + 1, second.counter + 1]);
  // A thousand of everything, never analyzed: PostgreSQL estimates from the tables' sizes alone.
  await pool.query(
    `INSERT INTO "${schema}".passgate_challenges (id, value, expires_at)
     SELECT 'pending-' || i, 'state', now() + interval '5 minutes' FROM generate_series(1, 1000) AS i`,
  );
  await pool.query(
    `INSERT INTO "${schema}".passgate_accounts (user_id, user_handle, username, display_name, created_at)
     SELECT 'user-' || i, int4send(i), 'name-' || i, 'Name', now() FROM generate_series(1, 1000) AS i`,
  );
  await pool.query(
    `INSERT INTO "${schema}".passgate_credentials (id, user_handle, public_key, algorithm, counter,
       backup_eligible, backed_up, aaguid, attestation_format, created_at)
     SELECT int4send(i), int4send(i), '\\x00', -7, 0, true, true, '', 'none', now()
       FROM generate_series(1, 1000) AS i`,
  );
});

afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

describe('consuming a ceremony reads every table by key', () => {
  const consumes = () => [...texts].filter((text) => /DELETE FROM \S+challenges/.test(text));

  it('sent the lone and the batched consumes', () => {
    expect(consumes().filter((text) => text.includes('unnest'))).toHaveLength(1);
    expect(consumes().filter((text) => !text.includes('unnest'))).toHaveLength(2);
  });

  it.each([
    [
      'the challenge store',
      (text: string) => !text.includes('unnest') && !text.includes('JOIN'),
      `'pending-1'`,
    ],
    [
      'a sign-in',
      (text: string) => !text.includes('unnest') && text.includes('JOIN'),
      `'pending-1', '\\x00'`,
    ],
    [
      'a batch of sign-ins',
      (text: string) => text.includes('unnest'),
      `ARRAY['pending-1', 'pending-2'], ARRAY['\\x00'::bytea, '\\x01'::bytea]`,
    ],
  ])('%s', async (_label, pick, args) => {
    const text = consumes().find(pick);
    expect(text).toBeDefined();
    const scans = scansOf((await planOf(text!, args)).nodes);
    expect(scans.find((scan) => scan.reads.startsWith('passgate_challenges'))).toBeDefined();
    // Every table by key: a sequential scan reads them all, and any other index on challenges
    // (expires_at) finds every pending ceremony.
    for (const scan of scans) {
      const seen = `${scan.type} ${scan.reads}`;
      expect(BY_KEY.has(scan.type), seen).toBe(true);
      if (scan.reads.startsWith('passgate_challenges') && scan.type !== 'Tid Scan') {
        expect(seen).toMatch(/ passgate_challenges_pkey$/);
      }
    }
  });
});

// Last in the file: it analyzes the credentials table, which every test above must find unanalyzed.
describe('the batched counter update', () => {
  const updateText = () =>
    [...texts].find((sent) => sent.includes('FOR NO KEY UPDATE') && sent.includes('unnest'));
  // Counters that match no row: each run locks the two rows for its own moment and updates nothing.
  const args = `ARRAY['\\x00000001'::bytea, '\\x00000002'::bytea], ARRAY[-1, -1]::bigint[],
    ARRAY[1, 1]::bigint[], ARRAY[true, true], ARRAY[now(), now()]`;

  // Unlike the consume, this statement is left to PostgreSQL's estimates. A connection that made
  // its plan while the table was small and never analyzed keeps it, and with it two sequential scans
  // of the table, however large the table grows, until the table is analyzed (or vacuumed, or the
  // connection closes). docs/production.md (section 11) says to keep autovacuum on: these two hold
  // why.
  it('keeps a plan that reads the whole table, made while the table was small and never analyzed, as the table grows', async () => {
    const { nodes, genericRuns } = await planOf(updateText()!, args, {
      runs: 6,
      meanwhile: async () => {
        await pool.query(
          `INSERT INTO "${schema}".passgate_credentials (id, user_handle, public_key, algorithm, counter,
             backup_eligible, backed_up, aaguid, attestation_format, created_at)
           SELECT int4send(i), int4send(1), '\\x00', -7, 0, true, true, '', 'none', now()
             FROM generate_series(1001, 30000) AS i`,
        );
      },
    });
    expect(genericRuns).toBeGreaterThan(0);
    expect(scansOf(nodes).some((scan) => scan.type === 'Seq Scan')).toBe(true);
  });

  it('reads the credentials by key once the table has statistics', async () => {
    await pool.query(`ANALYZE "${schema}".passgate_credentials`);
    // Planned for its values each time, by then: its generic plan costs more than those.
    const scans = scansOf((await planOf(updateText()!, args, { runs: 6 })).nodes);
    expect(scans.length).toBeGreaterThan(0);
    for (const scan of scans) expect(BY_KEY.has(scan.type), `${scan.type} ${scan.reads}`).toBe(true);
  });
});
