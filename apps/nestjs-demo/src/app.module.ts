/**
 * An existing-app-shaped NestJS app with passkeys added: a home page, a protected account page, a
 * small JSON API guarded by `PasskeysGuard`, the passkey routes at /passkeys (PasskeysModule)
 * and the shared browser page. The same pages and answers as the Express demo.
 */
import {
  type ArgumentsHost,
  Catch,
  Controller,
  type DynamicModule,
  Get,
  Inject,
  Module,
  NotFoundException,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { UserView } from '@passgate/core';
import { type DemoBackend, type ResolvedDemoConfig, SESSION_COOKIE_NAME } from '@passgate/demo-server';
import type { DemoPage } from '@passgate/demo-web';
import {
  CurrentUser,
  PassgateHttpException,
  PasskeysExceptionFilter,
  PasskeysGuard,
  PasskeysModule,
} from '@passgate/nestjs';
import type { Request, Response } from 'express';

/** express-session's cookie name, the demos' shared one (so the logout clears the right cookie). */
export { SESSION_COOKIE_NAME };

const DEMO_CONFIG = Symbol('DEMO_CONFIG');
const DEMO_PAGE = Symbol('DEMO_PAGE');

@Controller()
class PagesController {
  constructor(
    @Inject(DEMO_CONFIG) private readonly config: ResolvedDemoConfig,
    @Inject(DEMO_PAGE) private readonly page: DemoPage,
  ) {}

  @Get()
  home(@Res() res: Response): void {
    res.set(this.page.headers).send(this.page.html);
  }

  /** The protected page: signed-out browsers go home, API clients get the contract's 401. */
  @Get('account')
  account(@Req() req: Request, @Res() res: Response): void {
    if (req.passkey) {
      res.set(this.page.headers).send(this.page.html);
      return;
    }
    if (req.accepts(['html', 'json']) === 'html') {
      res.redirect(303, '/');
      return;
    }
    res.status(401).json({ error: { code: 'unauthenticated', message: 'You are not signed in.' } });
  }

  @Get('healthz')
  health() {
    return { ok: true, store: this.config.store };
  }
}

/** The app's own API, guarded by the passkey sign-in; errors in the contract's format. */
@Controller('api')
@UseGuards(PasskeysGuard)
@UseFilters(PasskeysExceptionFilter)
class ApiController {
  @Get('me')
  me(@CurrentUser() user: UserView | null): UserView {
    if (!user) throw new PassgateHttpException('unauthenticated');
    return user;
  }
}

/**
 * App-wide: `PassgateError`s get the contract's body (PasskeysExceptionFilter), unknown paths a plain
 * `404 Not found` as in the Express demo.
 */
@Catch()
class DemoExceptionFilter extends PasskeysExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof NotFoundException && host.getType() === 'http' && !res.headersSent) {
      res.status(404).type('text/plain').send('Not found');
      return;
    }
    super.catch(exception, host);
  }
}

@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest module class with a dynamic-module factory is the framework's idiom.
export class DemoModule {
  static forRoot(config: ResolvedDemoConfig, backend: DemoBackend, page: DemoPage): DynamicModule {
    return {
      module: DemoModule,
      imports: [
        PasskeysModule.forRoot({ passgate: backend.passgate, sessionCookieName: SESSION_COOKIE_NAME }),
      ],
      controllers: [PagesController, ApiController],
      providers: [
        { provide: DEMO_CONFIG, useValue: config },
        { provide: DEMO_PAGE, useValue: page },
        { provide: APP_FILTER, useClass: DemoExceptionFilter },
      ],
    };
  }
}
