import { PasskeysExceptionFilter } from './passkeys.filter.js';
import { PasskeysGuard } from './passkeys.guard.js';
import { PasskeysSessionMiddleware } from './passkeys.middleware.js';

// The names before the package's classes took one stem (`Passkeys…`), kept for existing imports:
// the same classes, so they are the same injection tokens.

/** @deprecated Renamed `PasskeysGuard` (the same class). */
export const PasskeyAuthGuard = PasskeysGuard;
/** @deprecated Renamed `PasskeysGuard` (the same class). */
export type PasskeyAuthGuard = PasskeysGuard;

/** @deprecated Renamed `PasskeysExceptionFilter` (the same class). */
export const PasskeyExceptionFilter = PasskeysExceptionFilter;
/** @deprecated Renamed `PasskeysExceptionFilter` (the same class). */
export type PasskeyExceptionFilter = PasskeysExceptionFilter;

/** @deprecated Renamed `PasskeysSessionMiddleware` (the same class). */
export const PasskeySessionMiddleware = PasskeysSessionMiddleware;
/** @deprecated Renamed `PasskeysSessionMiddleware` (the same class). */
export type PasskeySessionMiddleware = PasskeysSessionMiddleware;
