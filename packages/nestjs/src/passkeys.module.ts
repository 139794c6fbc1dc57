import { Inject, type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Passgate } from '@passgate/core';
import { CONTRACT_PATH_TEMPLATES, DEFAULT_PREFIX, normalizePrefix } from '@passgate/core/http';
import { bypassBodyParsers } from './body-parser.js';
import { PASSGATE, PASSKEY_SESSIONS } from './passkeys.constants.js';
import { CurrentUserPipe } from './passkeys.decorators.js';
import { PasskeysGuard } from './passkeys.guard.js';
import {
  PasskeysContractMiddleware,
  PasskeysSessionMiddleware,
  wellKnownWebauthnHandler,
} from './passkeys.middleware.js';
import { ConfigurableModuleClass, PASSKEYS_MODULE_OPTIONS } from './passkeys.module-definition.js';
import type { PasskeysModuleOptions } from './passkeys.options.js';
import { passgateProvider, sessionsProvider } from './passkeys.providers.js';
import { PasskeysService } from './passkeys.service.js';
import { installFastifyHooks, MountMarker, mountMiddleware } from './platform.js';
import type { PasskeySessions } from './session.js';

/**
 * Passkey sign-in for a NestJS app on `@nestjs/platform-express` or `@nestjs/platform-fastify`:
 *
 * ```ts
 * PasskeysModule.forRoot({ rp, secret, stores, prefix: '/passkeys' })
 * PasskeysModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: (c) => ({ ... }) })
 * ```
 *
 * Serves the Passgate HTTP contract below `prefix` (unless `controller: false`), sets `req.passkey`
 * on every request, and exports `PasskeysService`, `PasskeysGuard`, `CurrentUserPipe` and the
 * `PASSGATE`, `PASSKEY_SESSIONS` and `PASSKEYS_MODULE_OPTIONS` tokens. Attack protection (per-IP and
 * per-account rate limits, ceremony binding, origin checks) is the Passgate instance's and the
 * contract layer's, the same as in `@passgate/express`: no `@nestjs/throttler` is needed.
 */
@Module({
  providers: [
    passgateProvider,
    sessionsProvider,
    PasskeysService,
    PasskeysGuard,
    CurrentUserPipe,
    PasskeysContractMiddleware,
    PasskeysSessionMiddleware,
  ],
  exports: [
    PASSGATE,
    PASSKEY_SESSIONS,
    PASSKEYS_MODULE_OPTIONS,
    PasskeysService,
    PasskeysGuard,
    CurrentUserPipe,
    PasskeysContractMiddleware,
  ],
})
export class PasskeysModule extends ConfigurableModuleClass implements NestModule {
  constructor(
    @Inject(PASSKEYS_MODULE_OPTIONS) private readonly options: PasskeysModuleOptions,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(PASSGATE) private readonly passgate: Passgate,
    @Inject(PASSKEY_SESSIONS) private readonly sessions: PasskeySessions,
  ) {
    super();
  }

  configure(consumer: MiddlewareConsumer): void {
    const adapter = this.adapterHost.httpAdapter;
    const prefix = normalizePrefix(this.options.prefix ?? DEFAULT_PREFIX);
    if (adapter?.getType() === 'fastify') {
      // Nest middleware on Fastify gets Node's request and response, while @fastify/session keeps
      // `request.session` on Fastify's request and writes its cookie through Fastify's reply: an
      // onRequest hook has both, and answers before Fastify parses any body.
      installFastifyHooks(adapter.getInstance(), {
        passgate: this.passgate,
        signIns: this.sessions,
        contract: this.options.controller !== false,
        options: this.options,
      });
      if (this.options.controller === false) return;
      // One mount middleware per contract path, whose route tells where Nest put the contract (behind
      // its global prefix, which may hold the prefix too, or not, where it excludes the contract).
      const marker = new MountMarker();
      const below = prefix === '/' ? '' : prefix.slice(1);
      for (const template of CONTRACT_PATH_TEMPLATES) {
        consumer
          .apply(mountMiddleware(prefix, template, marker))
          .forRoutes({ path: `${below}${template}`, method: RequestMethod.ALL });
      }
      return;
    }
    if (this.options.controller !== false) {
      adapter?.getInstance()?.use(wellKnownWebauthnHandler(this.passgate));
      // Nest mounted its body parsers (app.init) before this runs: make them leave the passkey routes
      // to the contract layer, which reads those bodies itself (see body-parser.ts).
      bypassBodyParsers(adapter?.getInstance(), prefix);
      // Before the session middleware (Nest runs them in this order): the contract's routes are
      // answered with their sign-in resolved after the request-shape checks, not before them.
      // The prefix as a plain path, which Express mounts with `use()` on everything below it: a
      // wildcard parameter would have Express's router percent-decode the path first, and answer a
      // malformed one (`/credentials/%ZZ`) itself, before the contract's checks (403 first).
      consumer.apply(PasskeysContractMiddleware).forRoutes(prefix);
    }
    consumer.apply(PasskeysSessionMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
