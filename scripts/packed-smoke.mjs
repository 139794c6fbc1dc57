// `pnpm test:packed`: what a newcomer gets from npm. Packs every published package as `pnpm publish`
// would, installs the tarballs with npm into two scratch apps outside the workspace (in the system's
// temporary folder, so nothing resolves through the monorepo's node_modules), then starts each app
// and walks the start of the contract over real HTTP:
//   - an ESM Express app (`"type": "module"`) as the Express README shows it;
//   - a CommonJS NestJS app (`require()` of our ESM-only packages, Node >= 20.19), without
//     @passgate/express installed (the NestJS package does not need it);
//   - an ESM Fastify 5 app with @fastify/session and @passgate/fastify.
// The Express and Fastify apps then sign up, sign out and sign in again with the packed software
// authenticator. The README snippets marked as whole files are type-checked, under `strict`, in the
// Express and NestJS apps (see `typecheckSnippets`).
// Run after `pnpm build`. Needs the npm registry for the third-party dependencies.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pack, publishedPackages, ROOT } from './published-packages.mjs';

// The versions the monorepo's lockfile tests with, so the scratch apps install what CI proved.
const THIRD_PARTY = {
  express: '5.3.0',
  'express-session': '1.19.0',
  '@nestjs/common': '12.5.1',
  '@nestjs/core': '12.5.1',
  '@nestjs/platform-express': '12.5.1',
  'reflect-metadata': '0.2.2',
  rxjs: '7.8.2',
};

const FASTIFY = { fastify: '5.12.8', '@fastify/cookie': '11.1.5', '@fastify/session': '11.1.3' };

// What a TypeScript app adds for the snippets (the Express and NestJS READMEs' install lines).
const TYPES = { '@types/node': '20.19.43', '@types/express': '5.0.6', '@types/express-session': '1.19.0' };

// README code blocks that are whole files a user pastes, marked on the line before their fence with
// `<!-- packed-smoke: <scratch app>/<path>.ts -->`. Each scratch app must find these, so a marker
// that goes missing fails here instead of silently checking less.
const SNIPPET_MARK = /^<!-- packed-smoke: ([\w-]+)\/([\w./-]+\.ts) -->\n```\w*\n([\s\S]*?)^```$/gm;
const EXPECTED_SNIPPETS = {
  'esm-express': ['src/app.ts', 'src/vendor.ts'],
  'cjs-nest': [
    'src/app.module.ts',
    'src/main.ts',
    'src/main-prototypes.ts',
    'src/main-fastify.ts',
    'src/account.controller.ts',
  ],
};
// The compiler options of a strict app in each module system; the NestJS one is the Nest CLI's
// (CommonJS, decorators with metadata) with `strict` on.
const COMPILER_OPTIONS = {
  'esm-express': { module: 'nodenext', target: 'es2022' },
  'cjs-nest': {
    module: 'nodenext',
    target: 'es2023',
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    isolatedModules: true,
  },
};

const ESM_FASTIFY_APP = `
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { createMemoryStores, createPassgate } from '@passgate/core';
import { passkeys, requireSignIn } from '@passgate/fastify';
import Fastify from 'fastify';

const passgate = createPassgate({
  rp: { name: 'Scratch', id: 'localhost', origins: ['http://localhost'] },
  stores: createMemoryStores(),
  secret: 'scratch-app-secret-0123456789abcdef0123',
});
const app = Fastify();
await app.register(fastifyCookie);
await app.register(fastifySession, {
  secret: 'scratch-session-secret-0123456789abcdef',
  cookieName: 'sid',
  saveUninitialized: false,
  cookie: { secure: false },
});
await app.register(passkeys, { passgate, sessionCookieName: 'sid' });
app.get('/api/me', { preHandler: requireSignIn() }, async (request) => ({ userId: request.passkey.userId }));
await app.listen({ port: 0, host: '127.0.0.1' });
console.log('LISTENING ' + app.server.address().port);
`;

const ESM_EXPRESS_APP = `
import http from 'node:http';
import express from 'express';
import session from 'express-session';
import { createMemoryStores, createPassgate } from '@passgate/core';
import { createPasskeyRouter, expressServerOptions, passkeyErrorHandler, requireSignIn } from '@passgate/express';
import { createRedisStores } from '@passgate/redis';
import { createPostgresStores } from '@passgate/postgres';

if (typeof createRedisStores !== 'function' || typeof createPostgresStores !== 'function') {
  throw new Error('the adapters did not load');
}
const port = 0;
const passgate = createPassgate({
  rp: { name: 'Scratch', id: 'localhost', origins: ['http://localhost'] },
  stores: createMemoryStores(),
  secret: 'scratch-app-secret-0123456789abcdef0123',
});
const app = express();
app.use(session({ secret: 'scratch-session-secret', resave: false, saveUninitialized: false }));
app.use(createPasskeyRouter({ passgate }));
app.get('/api/me', requireSignIn(), (req, res) => res.json({ userId: req.passkey.userId }));
app.use(passkeyErrorHandler());
// Requests made with the app's prototypes (expressServerOptions), as the README shows.
const server = http.createServer(expressServerOptions(app), app).listen(port, '127.0.0.1', () => {
  console.log('LISTENING ' + server.address().port);
});
`;

// A whole sign-up and sign-in against the ESM app, with the software authenticator of the packed
// @passgate/testing: proves the tarballs work end to end, not only that they load.
const ESM_FLOW = `
import { SoftwareAuthenticator } from '@passgate/testing';
const [url] = process.argv.slice(2);
const origin = 'http://localhost';
const jar = new Map();
async function call(method, path, body) {
  const headers = { origin, cookie: [...jar].map(([k, v]) => k + '=' + v).join('; ') };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const at = pair.indexOf('=');
    jar.set(pair.slice(0, at), pair.slice(at + 1));
  }
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
function expect(what, answer, status) {
  if (answer.status !== status) throw new Error(what + ': expected ' + status + ', got ' + answer.status + ' ' + JSON.stringify(answer.body));
  console.log('  ' + what + ' -> ' + status);
  return answer.body;
}
const authenticator = new SoftwareAuthenticator();
const creation = expect('sign-up options', await call('POST', '/passkeys/register/options', { username: 'flow' }), 200);
const created = await authenticator.createCredential(creation, { origin });
const signedUp = expect('sign-up verify', await call('POST', '/passkeys/register/verify', created), 200);
expect('session after sign-up', await call('GET', '/passkeys/session'), 200);
expect('logout', await call('POST', '/passkeys/logout'), 204);
expect('session after logout', await call('GET', '/passkeys/session'), 401);
const request = expect('sign-in options', await call('POST', '/passkeys/login/options', {}), 200);
const assertion = await authenticator.getAssertion(request, { origin });
const signedIn = expect('sign-in verify', await call('POST', '/passkeys/login/verify', assertion), 200);
if (signedIn.user.id !== signedUp.user.id) throw new Error('signed in as another user');
const me = expect('guarded app route', await call('GET', '/api/me'), 200);
if (me.userId !== signedUp.user.id) throw new Error('req.passkey names another user');
`;

const CJS_NEST_APP = `
require('reflect-metadata');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { createMemoryStores } = require('@passgate/core');
const { PasskeysModule } = require('@passgate/nestjs');
const session = require('express-session');

class AppModule {}
Module({
  imports: [
    PasskeysModule.forRoot({
      rp: { name: 'Scratch', id: 'localhost', origins: ['http://localhost'] },
      stores: createMemoryStores(),
      secret: 'scratch-app-secret-0123456789abcdef0123',
    }),
  ],
})(AppModule);

async function main() {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  app.use(session({ secret: 'scratch-session-secret', resave: false, saveUninitialized: false }));
  await app.listen(0, '127.0.0.1');
  console.log('LISTENING ' + app.getHttpServer().address().port);
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

function npm(args, cwd) {
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, stdio: 'inherit' });
}

/**
 * Type-checks the README snippets marked for `app` as the npm user sees them (the READMEs of the
 * installed tarballs), written as files of the scratch app in `dir` and compiled with the monorepo's
 * TypeScript under `strict`. A snippet that does not compile as written (a missing import, top-level
 * await in a CommonJS project, an `undefined` a strict type refuses) is a newcomer's first error.
 */
function typecheckSnippets(app, dir) {
  const files = new Map();
  const installed = join(dir, 'node_modules', '@passgate');
  for (const name of readdirSync(installed)) {
    const readme = readFileSync(join(installed, name, 'README.md'), 'utf8');
    for (const [, target, path, code] of readme.matchAll(SNIPPET_MARK)) {
      if (target !== app) continue;
      if (files.has(path)) throw new Error(`two README snippets are marked ${app}/${path}`);
      files.set(path, code);
    }
  }
  const missing = EXPECTED_SNIPPETS[app].filter((path) => !files.has(path));
  if (missing.length > 0) throw new Error(`no README snippet is marked ${missing.map((p) => `${app}/${p}`)}`);
  for (const [path, code] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), code);
  }
  const compilerOptions = {
    ...COMPILER_OPTIONS[app],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['src'] }));
  try {
    execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    throw new Error(
      `README snippets do not type-check in ${app}:\n${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
  }
  console.log(`  README snippets type-check (strict): ${[...files.keys()].join(', ')}`);
}

/** Starts `node file` in `cwd`, waits for `LISTENING <port>`, returns `{ url, stop }`. */
async function start(cwd, file) {
  const child = spawn(process.execPath, [file], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start:\n${output}`)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      const match = /LISTENING (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code}:\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.removeAllListeners('exit');
      child.kill();
      await once(child, 'exit');
    },
  };
}

/** The start of the contract over HTTP: options for sign-up and sign-in, a 401 session, a 415. */
async function walk(url, prefix = '/passkeys') {
  const post = (path, body, contentType = 'application/json') =>
    fetch(`${url}${prefix}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType, origin: 'http://localhost' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const checks = [
    ['POST /register/options', await post('/register/options', { username: 'newcomer' }), 200],
    ['POST /login/options', await post('/login/options', {}), 200],
    ['GET /session', await fetch(`${url}${prefix}/session`), 401],
    ['POST /login/options as text/plain', await post('/login/options', '{}', 'text/plain'), 415],
  ];
  for (const [what, response, status] of checks) {
    if (response.status !== status) {
      throw new Error(`${what}: expected ${status}, got ${response.status} ${await response.text()}`);
    }
    console.log(`  ${what} -> ${status}`);
  }
  const options = await (await post('/register/options', { username: 'another' })).json();
  if (!options.challenge || !options.user?.id) throw new Error('register/options gave no challenge');
}

const scratch = mkdtempSync(join(tmpdir(), 'passgate-packed-'));
try {
  const tarballs = {};
  const tarballDir = join(scratch, 'tarballs');
  mkdirSync(tarballDir);
  for (const { name, dir } of publishedPackages()) tarballs[name] = pack(dir, tarballDir);
  const ours = (...names) => names.map((name) => tarballs[name]).filter(Boolean);

  console.log('== ESM Express app from the tarballs');
  const esm = join(scratch, 'esm-express');
  mkdirSync(esm);
  writeFileSync(
    join(esm, 'package.json'),
    JSON.stringify({ name: 'esm-express', private: true, type: 'module' }),
  );
  npm(
    [
      'install',
      ...ours(
        '@passgate/core',
        '@passgate/express',
        '@passgate/redis',
        '@passgate/postgres',
        '@passgate/testing',
        '@passgate/browser',
      ),
      `express@${THIRD_PARTY.express}`,
      `express-session@${THIRD_PARTY['express-session']}`,
      'ioredis@6.0.0',
      'pg@8.23.1',
      ...Object.entries(TYPES).map(([name, version]) => `${name}@${version}`),
    ],
    esm,
  );
  typecheckSnippets('esm-express', esm);
  writeFileSync(join(esm, 'app.js'), ESM_EXPRESS_APP);
  writeFileSync(join(esm, 'flow.js'), ESM_FLOW);
  const express = await start(esm, 'app.js');
  try {
    await walk(express.url);
    execFileSync(process.execPath, ['flow.js', express.url], { cwd: esm, stdio: 'inherit' });
  } finally {
    await express.stop();
  }

  console.log('== CommonJS NestJS app from the tarballs');
  const cjs = join(scratch, 'cjs-nest');
  mkdirSync(cjs);
  writeFileSync(
    join(cjs, 'package.json'),
    JSON.stringify({ name: 'cjs-nest', private: true, type: 'commonjs' }),
  );
  npm(
    [
      'install',
      ...ours('@passgate/core', '@passgate/nestjs'),
      ...Object.entries(THIRD_PARTY).map(([name, version]) => `${name}@${version}`),
      // For the README's "On Fastify" snippet, type-checked here with the others.
      '@nestjs/platform-fastify@12.5.0',
      ...Object.entries(FASTIFY).map(([name, version]) => `${name}@${version}`),
      ...Object.entries(TYPES).map(([name, version]) => `${name}@${version}`),
    ],
    cjs,
  );
  typecheckSnippets('cjs-nest', cjs);
  writeFileSync(join(cjs, 'app.js'), CJS_NEST_APP);
  const nest = await start(cjs, 'app.js');
  try {
    await walk(nest.url);
  } finally {
    await nest.stop();
  }

  console.log('== ESM Fastify app from the tarballs');
  const fastifyDir = join(scratch, 'esm-fastify');
  mkdirSync(fastifyDir);
  writeFileSync(
    join(fastifyDir, 'package.json'),
    JSON.stringify({ name: 'esm-fastify', private: true, type: 'module' }),
  );
  npm(
    [
      'install',
      ...ours('@passgate/core', '@passgate/fastify', '@passgate/testing'),
      ...Object.entries(FASTIFY).map(([name, version]) => `${name}@${version}`),
    ],
    fastifyDir,
  );
  writeFileSync(join(fastifyDir, 'app.js'), ESM_FASTIFY_APP);
  writeFileSync(join(fastifyDir, 'flow.js'), ESM_FLOW);
  const fastify = await start(fastifyDir, 'app.js');
  try {
    await walk(fastify.url);
    execFileSync(process.execPath, ['flow.js', fastify.url], { cwd: fastifyDir, stdio: 'inherit' });
  } finally {
    await fastify.stop();
  }
  console.log(
    `test:packed: the three scratch apps started from the tarballs and served the contract (root ${ROOT}).`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
