import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));

beforeAll(async () => {
  // The CommonJS app loads the built package (dist), as an app installing it from npm would.
  await run('npx', ['tsc', '-b'], { cwd: packageDir });
}, 120_000);

it('a CommonJS app can require() @passgate/nestjs and serve the contract', async () => {
  const { stdout } = await run(
    process.execPath,
    [fileURLToPath(new URL('fixtures/cjs-app.cjs', import.meta.url))],
    {
      cwd: packageDir,
      timeout: 30_000,
    },
  );
  expect(JSON.parse(stdout)).toEqual({
    status: 200,
    hasChallenge: true,
    cookie: 'passgate_ceremony',
    session: 401,
    service: 'function',
  });
}, 60_000);
