/**
 * The hand-rolled baseline (a bench fixture, never shipped): passkey sign-up and sign-in written the
 * way SimpleWebAuthn's documentation and example server show it — Express 5, express-session with its
 * MemoryStore, `@simplewebauthn/server`, users and passkeys in in-memory maps, the challenge in the
 * session. No rate limits, no ceremony cookie, no decoys, no events: it is the code a team writes
 * instead of adopting a library, and the yardstick `pnpm bench` divides by.
 *
 * Same paths and bodies as the Passgate contract (`/passkeys/register/*`, `/passkeys/login/*`,
 * usernameless sign-in), so one load client drives both.
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import express from 'express';
import session from 'express-session';

/** @param {{ rpId: string, origin: string }} config */
export function createBaselineApp({ rpId, origin }) {
  const app = express();
  app.use(express.json());
  app.use(
    session({
      secret: 'bench-baseline-session-secret-not-for-production',
      saveUninitialized: true,
      resave: false,
      cookie: { maxAge: 86_400_000, httpOnly: true },
    }),
  );

  /** username → { id, username, passkeys: [] } */
  const users = new Map();
  /** credential id → { id, publicKey, counter, transports, userId } */
  const passkeys = new Map();

  app.post('/passkeys/register/options', async (req, res) => {
    const username = String(req.body?.username ?? '');
    let user = users.get(username);
    if (!user) {
      user = { id: crypto.randomUUID(), username, passkeys: [] };
      users.set(username, user);
    }
    const options = await generateRegistrationOptions({
      rpName: 'Bench baseline',
      rpID: rpId,
      userName: username,
      attestationType: 'none',
      excludeCredentials: user.passkeys.map((p) => ({ id: p.id, transports: p.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    req.session.currentChallenge = options.challenge;
    req.session.registeringUser = username;
    res.json(options);
  });

  app.post('/passkeys/register/verify', async (req, res) => {
    const user = users.get(req.session.registeringUser);
    if (!user) return res.status(400).json({ error: 'no registration in progress' });
    let verification;
    try {
      verification = await verifyRegistrationResponse({
        response: req.body,
        expectedChallenge: req.session.currentChallenge,
        expectedOrigin: origin,
        expectedRPID: rpId,
        requireUserVerification: false,
      });
    } catch (error) {
      return res.status(400).json({ error: error.message });
    }
    const { verified, registrationInfo } = verification;
    if (verified && registrationInfo) {
      const { credential } = registrationInfo;
      const passkey = {
        id: credential.id,
        publicKey: credential.publicKey,
        counter: credential.counter,
        transports: req.body.response?.transports ?? [],
        userId: user.id,
      };
      user.passkeys.push(passkey);
      passkeys.set(passkey.id, passkey);
      req.session.userId = user.id;
    }
    req.session.currentChallenge = undefined;
    res.json({ verified });
  });

  app.post('/passkeys/login/options', async (req, res) => {
    const options = await generateAuthenticationOptions({ rpID: rpId, userVerification: 'preferred' });
    req.session.currentChallenge = options.challenge;
    res.json(options);
  });

  app.post('/passkeys/login/verify', async (req, res) => {
    const passkey = passkeys.get(req.body?.id);
    if (!passkey) return res.status(400).json({ error: 'unknown passkey' });
    let verification;
    try {
      verification = await verifyAuthenticationResponse({
        response: req.body,
        expectedChallenge: req.session.currentChallenge,
        expectedOrigin: origin,
        expectedRPID: rpId,
        credential: {
          id: passkey.id,
          publicKey: passkey.publicKey,
          counter: passkey.counter,
          transports: passkey.transports,
        },
        requireUserVerification: false,
      });
    } catch (error) {
      return res.status(400).json({ error: error.message });
    }
    const { verified, authenticationInfo } = verification;
    if (verified) {
      passkey.counter = authenticationInfo.newCounter;
      req.session.userId = passkey.userId;
    }
    req.session.currentChallenge = undefined;
    res.json({ verified });
  });

  return app;
}
