// `pnpm lint:packages`: publint and @arethetypeswrong/cli on the tarball of every published package,
// plus the metadata every published package must carry. Run after `pnpm build`.
//
// attw runs with `--ignore-rules cjs-resolves-to-esm`: the packages are ESM only, on purpose, and
// CommonJS apps load them with `require()` of ESM (Node >= 20.19). That path is not a guess: the
// packed-tarball test (`pnpm test:packed`) starts a CommonJS NestJS app from the tarballs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack, publishedPackages, ROOT } from './published-packages.mjs';

const REQUIRED_FIELDS = ['description', 'license', 'repository', 'homepage', 'bugs', 'keywords', 'engines'];
const bin = (name) => join(ROOT, 'node_modules', '.bin', name);
const problems = [];
const destination = mkdtempSync(join(tmpdir(), 'passgate-lint-packages-'));

try {
  for (const { name, dir, manifest } of publishedPackages()) {
    for (const field of REQUIRED_FIELDS) {
      if (manifest[field] === undefined) problems.push(`${name}: package.json has no "${field}"`);
    }
    if (manifest.repository && !manifest.repository.directory) {
      problems.push(`${name}: "repository" has no "directory"`);
    }
    for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) {
      if (/^\d/.test(range)) problems.push(`${name}: dependency ${dep} is pinned to ${range}; use a range`);
    }
    if (name !== '@passgate/core' && manifest.dependencies?.['@passgate/core']) {
      problems.push(`${name}: @passgate/core must be a peer dependency (one copy per app)`);
    }

    const tarball = pack(dir, destination);
    console.log(`\n== ${name} (${tarball.split('/').pop()})`);
    for (const [tool, args] of [
      ['publint', ['run', tarball, '--strict']],
      ['attw', [tarball, '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii']],
    ]) {
      try {
        const out = execFileSync(bin(tool), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        console.log(out.trim());
      } catch (error) {
        console.log(`${error.stdout ?? ''}${error.stderr ?? ''}`.trim());
        problems.push(`${name}: ${tool} failed`);
      }
    }
  }
} finally {
  rmSync(destination, { recursive: true, force: true });
}

if (problems.length > 0) {
  console.error(`\nlint:packages found ${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('\nlint:packages: every published package is clean.');
