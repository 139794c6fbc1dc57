/**
 * The load side of the soak (`soak.mjs` forks it): SOAK_CLIENTS concurrent clients, each with its own
 * software authenticator and cookie jar, sending mixed traffic to the demo at SOAK_URL (origin
 * SOAK_ORIGIN) until told to stop: sign-ups, sign-ins (usernameless and username-first), management
 * (list, session, rename, a refused delete of the only passkey), abandoned ceremonies and bad input.
 *
 * SOAK_NEW_USERS: the share of iterations that sign up a new user (default 0.05). 0 keeps the
 * population fixed (one account per client), so a store in the server's own memory holds a
 * constant amount of state (`pnpm bench:soak`).
 *
 * IPC: `{ type: 'count' }` is answered with the requests so far; `{ type: 'stop' }` ends the loops
 * and is answered with the figures (`{ type: 'done', total, fiveHundreds, statuses, byKind }`).
 */
import { randomBytes } from 'node:crypto';
import { SoftwareAuthenticator } from '@passgate/testing';

const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 8);
const NEW_USERS = Number(process.env.SOAK_NEW_USERS ?? 0.05);
const origin = process.env.SOAK_ORIGIN;
const base = `${process.env.SOAK_URL}/passkeys`;
const tag = process.env.SOAK_TAG ?? randomBytes(4).toString('hex');

const statuses = new Map();
const byKind = new Map();
let total = 0;
let fiveHundreds = 0;
const count = (kind, status) => {
  total++;
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
  const key = `${kind} ${status}`;
  byKind.set(key, (byKind.get(key) ?? 0) + 1);
  if (status >= 500) fiveHundreds++;
};

async function call(kind, method, path, { body, raw, jar } = {}) {
  const headers = { origin };
  if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
  if (jar && jar.size > 0) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await response.text();
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const [name, ...value] = pair.split('=');
    if (!jar) continue;
    if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value.join('=') === '') jar.delete(name);
    else jar.set(name, value.join('='));
  }
  count(kind, response.status);
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json };
}

const garbage = () => {
  const choices = [
    () => '{',
    () => JSON.stringify({ id: randomBytes(8).toString('base64url'), response: {} }),
    () => JSON.stringify({ username: 'x'.repeat(100) }),
    () => `${'['.repeat(3000)}${']'.repeat(3000)}`,
    () => randomBytes(64).toString('latin1'),
    () => JSON.stringify({ rawId: 5, type: 'public-key', response: { clientDataJSON: '%%%' } }),
  ];
  return choices[Math.floor(Math.random() * choices.length)]();
};

let stopping = false;
let users = 0;
async function clientLoop(n) {
  const authenticator = new SoftwareAuthenticator({ algorithms: ['ES256'] });
  const jar = new Map();
  let username;
  let credentialId;
  while (!stopping) {
    const roll = Math.random();
    try {
      if (credentialId === undefined || roll < NEW_USERS) {
        username = `soak-${tag}-${n}-${++users}`;
        // A fresh cookie jar: signed out, so this is a sign-up (not a passkey added to the account).
        const ceremony = new Map();
        const opts = await call('register/options', 'POST', '/register/options', {
          body: { username },
          jar: ceremony,
        });
        if (opts.status !== 200) continue;
        const created = await authenticator.createCredential(opts.json, { origin });
        jar.clear();
        for (const [k, v] of ceremony) jar.set(k, v);
        const verified = await call('register/verify', 'POST', '/register/verify', { body: created, jar });
        if (verified.status === 200) credentialId = created.id;
      } else if (roll < 0.45) {
        const usernameFirst = roll < 0.25;
        const opts = await call('login/options', 'POST', '/login/options', {
          body: usernameFirst ? { username } : {},
          jar,
        });
        if (opts.status !== 200) continue;
        const assertion = await authenticator.getAssertion(opts.json, { origin, credentialId });
        await call('login/verify', 'POST', '/login/verify', { body: assertion, jar });
      } else if (roll < 0.6) {
        await call('GET /credentials', 'GET', '/credentials', { jar });
        await call('GET /session', 'GET', '/session', { jar });
      } else if (roll < 0.7) {
        await call('PATCH /credentials', 'PATCH', `/credentials/${credentialId}`, {
          body: { nickname: `key ${Math.floor(Math.random() * 1000)}` },
          jar,
        });
      } else if (roll < 0.75) {
        // The only passkey: 409 last_credential, nothing deleted.
        await call('DELETE /credentials', 'DELETE', `/credentials/${credentialId}`, { jar });
      } else if (roll < 0.85) {
        // Abandoned ceremonies: options never verified (their keys must expire).
        await call(
          'abandoned options',
          'POST',
          Math.random() < 0.5 ? '/login/options' : '/register/options',
          {
            body: Math.random() < 0.5 ? {} : { username: `ghost-${tag}-${Math.floor(Math.random() * 1e6)}` },
          },
        );
      } else {
        const path = ['/login/verify', '/register/verify', '/login/options', '/register/options'][
          Math.floor(Math.random() * 4)
        ];
        await call(`bad input ${path}`, 'POST', path, { raw: garbage(), jar: new Map() });
      }
    } catch (error) {
      count(`client error ${error?.name ?? 'Error'}`, 0);
    }
  }
}

const loops = Array.from({ length: CLIENTS }, (_, i) => clientLoop(i));
process.on('message', async (message) => {
  if (message.type === 'count') process.send({ type: 'count', total });
  else if (message.type === 'stop') {
    stopping = true;
    await Promise.all(loops);
    process.send(
      { type: 'done', total, fiveHundreds, statuses: [...statuses], byKind: [...byKind], users },
      () => process.exit(0),
    );
  }
});
process.on('disconnect', () => process.exit(1));
