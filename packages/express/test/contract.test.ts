import { describeHttpContract } from '@passgate/testing/contract';
import express from 'express';
import session from 'express-session';
import { createPasskeyRouter } from '../src/index.js';
import { listen, SESSION_SECRET } from './helpers.js';

describeHttpContract('express', async ({ passgate, identify, onPasskeySignIn }) => {
  const app = express();
  app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false }));
  app.use(createPasskeyRouter({ passgate, identify, onPasskeySignIn }));
  return listen(app);
});
