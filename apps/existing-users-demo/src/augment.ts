/** The app's additions to express-session's data and to passport's `req.user`. */
import type { AppUser } from './users.js';

declare module 'express-session' {
  interface SessionData {
    /** When the user last proved who they are (password or passkey), ms since the epoch. */
    signedInAt?: number;
    /** How: the account page says so, and offers a passkey after a password sign-in. */
    signedInWith?: 'password' | 'passkey';
  }
}

declare global {
  namespace Express {
    // passport's `req.user` is the app's own user row.
    interface User extends AppUser {}
  }
}
