// The workspace packages that are published (every `packages/*` that is not private), and a helper
// that packs them the way `pnpm publish` would: `workspace:` specifiers become real ranges.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `{ name, dir, manifest }` of each published package, in directory order. */
export function publishedPackages() {
  const packagesDir = join(ROOT, 'packages');
  return readdirSync(packagesDir)
    .map((entry) => join(packagesDir, entry))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => !manifest.private)
    .map(({ dir, manifest }) => ({ name: manifest.name, dir, manifest }));
}

/** Packs one package with pnpm into `destination`; returns the tarball's path. */
export function pack(dir, destination) {
  // Run by pnpm (`pnpm lint:packages`), reuse that pnpm rather than starting npx for each package.
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: a script run by pnpm, not a turbo task.
  const execPath = process.env.npm_execpath ?? '';
  // pnpm 12 ships a native binary there; older ones a JavaScript file.
  let [command, prefix] = ['npx', ['-y', 'pnpm@12.4.2']];
  if (/pnpm/.test(execPath)) {
    [command, prefix] = /\.[cm]?js$/.test(execPath) ? [process.execPath, [execPath]] : [execPath, []];
  }
  const out = execFileSync(command, [...prefix, 'pack', '--pack-destination', destination], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const tarball = out
    .trim()
    .split('\n')
    .map((line) => line.trim())
    .reverse()
    .find((line) => line.endsWith('.tgz'));
  if (!tarball) throw new Error(`pnpm pack printed no tarball for ${dir}:\n${out}`);
  return tarball.startsWith('/') ? tarball : join(destination, tarball);
}
