#!/usr/bin/env node
// Refreshes data/passkey-provider-aaguids.json from a newer copy of the community list of passkey
// providers ("passkey-authenticator-aaguids", `aaguid.json`) or of our own names-only file.
//
//   node scripts/refresh-authenticator-names.mjs <path-or-https-url> [--out <file>]
//
// Keeps names only (the upstream icons are the providers' artwork). Refuses an empty list: upstream
// says it may be retired as `{}`, and then the names we have are better than none. Exit codes: 0
// written, 1 refused (nothing written), 2 usage.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const AAGUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Names-only AAGUID → name map from either format; throws on anything that is not one. */
export function extractNames(list) {
  if (!list || typeof list !== 'object' || Array.isArray(list)) throw new Error('not a JSON object');
  const names = {};
  for (const [key, value] of Object.entries(list)) {
    const aaguid = key.toLowerCase();
    if (!AAGUID.test(aaguid)) throw new Error(`"${key}" is not an AAGUID`);
    const name = typeof value === 'string' ? value : value?.name;
    if (typeof name !== 'string' || name.trim() === '') throw new Error(`no name for ${key}`);
    names[aaguid] = name.trim();
  }
  if (Object.keys(names).length === 0) {
    throw new Error('the new list is empty; keeping the current names');
  }
  return Object.fromEntries(Object.entries(names).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

async function load(source) {
  if (/^https:\/\//.test(source)) {
    const response = await fetch(source);
    if (!response.ok) throw new Error(`${source} answered ${response.status}`);
    return response.json();
  }
  return JSON.parse(await readFile(source, 'utf8'));
}

async function main(argv) {
  const args = [...argv];
  const outAt = args.indexOf('--out');
  const out =
    outAt >= 0
      ? args.splice(outAt, 2)[1]
      : fileURLToPath(new URL('../data/passkey-provider-aaguids.json', import.meta.url));
  const [source] = args;
  if (!source || !out) {
    console.error('usage: refresh-authenticator-names.mjs <path-or-https-url> [--out <file>]');
    return 2;
  }
  let names;
  try {
    names = extractNames(await load(source));
  } catch (error) {
    console.error(`refused: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  await writeFile(out, `${JSON.stringify(names, null, 2)}\n`);
  console.log(`wrote ${Object.keys(names).length} names to ${out}; update the date in data/README.md`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
