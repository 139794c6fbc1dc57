/**
 * The sign-in security suites again, on stores without the optional `signIn` (as a third-party
 * adapter's, e.g. examples/mysql): the core's fallback to separate store calls keeps every rule.
 */
import { useSeparateSignInReads } from './helpers.js';

useSeparateSignInReads();
await import('./authentication.test.js');
await import('./abuse-resistance.test.js');
await import('./events-and-limits.test.js');
