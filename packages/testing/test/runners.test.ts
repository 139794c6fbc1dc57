import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The conformance suite runs from other test runners too: node:test and Jest each run it (from the
 * built package, as a user's project would) in a child process, pass the in-memory stores, and fail
 * stores that break a promise.
 */
const here = (file: string) => fileURLToPath(new URL(`./runners/${file}`, import.meta.url));
const jestBin = createRequire(import.meta.url).resolve('jest/bin/jest');

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, ...env, NODE_OPTIONS: '--experimental-vm-modules', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

const nodeTest = (env?: Record<string, string>) =>
  run(['--test', '--test-reporter=tap', here('node-test.fixture.mjs')], env);
const jest = (env?: Record<string, string>) =>
  run(
    [
      jestBin,
      '--config',
      JSON.stringify({ transform: {}, testEnvironment: 'node', testMatch: ['**/runners/jest.fixture.mjs'] }),
      '--ci',
      '--runInBand',
    ],
    env,
  );

/** The number after `label` in the runner's summary (`# pass 93`, `Tests: 93 passed`). */
const count = (output: string, pattern: RegExp): number => Number(pattern.exec(output)?.[1] ?? Number.NaN);

describe.concurrent('the conformance suite on other runners', () => {
  it('node:test runs it and passes the in-memory stores', async () => {
    const { code, output } = await nodeTest();
    expect(code, output.slice(-3000)).toBe(0);
    expect(count(output, /^# pass (\d+)/m)).toBeGreaterThan(70);
    expect(count(output, /^# fail (\d+)/m)).toBe(0);
  }, 120_000);

  it('node:test fails stores whose consume does not remove', async () => {
    const { code, output } = await nodeTest({ PASSGATE_FLAW: 'consume' });
    expect(code).not.toBe(0);
    expect(output).toContain('not ok');
    expect(output).toContain('consume is single-use');
  }, 120_000);

  it('Jest runs it and passes the in-memory stores', async () => {
    const { code, output } = await jest();
    expect(code, output.slice(-3000)).toBe(0);
    expect(count(output, /Tests:\s+(?:\d+ skipped, )?(\d+) passed/)).toBeGreaterThan(70);
  }, 120_000);

  it('Jest fails stores whose consume does not remove', async () => {
    const { code, output } = await jest({ PASSGATE_FLAW: 'consume' });
    expect(code).not.toBe(0);
    expect(output).toMatch(/✕ consume is single-use/);
  }, 120_000);
});

describe('runner neutrality', () => {
  it('only the vitest entry point of the conformance suite imports vitest', () => {
    const dir = fileURLToPath(new URL('../src/conformance/', import.meta.url));
    const importers = readdirSync(dir).filter((file) =>
      /from ['"]vitest['"]/.test(readFileSync(`${dir}${file}`, 'utf8')),
    );
    // Every other module registers through the runner it is given and asserts with ./expect.ts.
    expect(importers).toEqual(['index.ts']);
  });
});
