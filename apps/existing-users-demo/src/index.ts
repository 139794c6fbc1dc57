export {
  createExistingUsersApp,
  identifyUser,
  pageFile,
  publicDir,
  SESSION_COOKIE_NAME,
} from './app.js';
export {
  hashPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  passwordProblem,
  SCRYPT_PARAMETERS,
  verifyPassword,
} from './passwords.js';
export { startExistingUsersDemo } from './server.js';
export {
  type AppUser,
  createUserStore,
  emailProblem,
  normalizeEmail,
  prepareUserStore,
  type UserStore,
} from './users.js';
