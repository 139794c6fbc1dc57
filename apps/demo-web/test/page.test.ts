import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoPageFile, layoutFile, loadPage, renderPage } from '../index.js';

const dir = mkdtempSync(join(tmpdir(), 'passgate-demo-web-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A page file of its own in a temporary folder: `slots` as written. */
function pageWith(name: string, slots: string): string {
  const file = join(dir, `${name}.html`);
  writeFileSync(file, slots);
  return file;
}

const ALL_SLOTS = `
<template data-slot="title">Test page</template>
<template data-slot="script">/test.js</template>
<template data-slot="brand"><span class="logo">T</span> Test</template>
<template data-slot="main">
      <section id="only">The page's own part</section>
</template>
<template data-slot="footer">Footer text</template>
`;

const importMap = (html: string) => /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1];

describe('renderPage: one layout, a page file of slots', () => {
  it("puts each slot's trimmed content in the layout, in place", () => {
    const html = renderPage(pageWith('all', ALL_SLOTS));
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<title>Test page</title>');
    expect(html).toContain('<script type="module" src="/test.js"></script>');
    expect(html).toContain(
      '<a class="brand" href="/" data-testid="home-link"><span class="logo">T</span> Test</a>',
    );
    expect(html).toContain('\n      <section id="only">The page\'s own part</section>\n    </main>');
    expect(html).toContain('<footer class="muted">\n      Footer text\n    </footer>');
    // Without body-attributes, the body has the layout's own attributes only.
    expect(html).toContain('<body data-view="loading" data-autofill="off">');
    expect(html).not.toContain('{{');
  });

  it("the frame is the layout's: import map, topbar, status line and loading line come from it", () => {
    const layout = readFileSync(layoutFile, 'utf8');
    const html = renderPage(pageWith('frame', ALL_SLOTS));
    expect(importMap(html)).toBe(importMap(layout));
    for (const testId of ['account-link', 'sign-out', 'status', 'loading']) {
      expect(html.match(new RegExp(`data-testid="${testId}"`, 'g'))).toHaveLength(1);
    }
  });

  it('body-attributes, when given, go on the body after the layout’s own', () => {
    const html = renderPage(
      pageWith('body', `${ALL_SLOTS}<template data-slot="body-attributes">data-upgrade="off"</template>`),
    );
    expect(html).toContain('<body data-view="loading" data-autofill="off" data-upgrade="off">');
  });

  it('a comment outside the templates is not sent, even one that shows a template', () => {
    const html = renderPage(
      pageWith('comment', `<!-- <template data-slot="nope">x</template> -->\n${ALL_SLOTS}`),
    );
    expect(html).not.toContain('nope');
  });

  it('the content is sent as written: `$` patterns are not replacement patterns', () => {
    const html = renderPage(
      pageWith(
        'dollar',
        ALL_SLOTS.replace('Footer text', () => "costs $& and $' and $1"),
      ),
    );
    expect(html).toContain("costs $& and $' and $1");
  });

  it('refuses, naming the file and the slot, an unknown, a repeated or a missing slot', () => {
    const unknown = pageWith('unknown', `${ALL_SLOTS}<template data-slot="sidebar">x</template>`);
    expect(() => renderPage(unknown)).toThrow(`${unknown}: unknown slot "sidebar"`);
    const twice = pageWith('twice', `${ALL_SLOTS}<template data-slot="title">Again</template>`);
    expect(() => renderPage(twice)).toThrow(`${twice}: slot "title" is filled twice`);
    const missing = pageWith(
      'missing',
      ALL_SLOTS.replace(/<template data-slot="main">[\s\S]*?<\/template>/, ''),
    );
    expect(() => renderPage(missing)).toThrow(`${missing}: missing slot(s) main`);
  });
});

describe("the Passgate demo's page", () => {
  it('renders whole: its slots in the layout, nothing left unfilled', () => {
    const html = renderPage(demoPageFile);
    expect(html).toContain('<title>Passgate demo</title>');
    expect(html).toContain('<script type="module" src="/app.js"></script>');
    expect(html).toContain('data-testid="signed-out-view"');
    expect(html).toContain('data-testid="passkey-list"');
    expect(html).not.toMatch(/\{\{|data-slot|undefined/);
  });

  it("loadPage sends it with a CSP that allows its import map, by that map's hash", () => {
    const page = loadPage();
    expect(page.html).toBe(renderPage(demoPageFile));
    const hash = createHash('sha256')
      .update(importMap(page.html) ?? '')
      .digest('base64');
    expect(page.headers['Content-Security-Policy']).toContain(`script-src 'self' 'sha256-${hash}'`);
    expect(page.headers['Content-Type']).toBe('text/html; charset=utf-8');
  });
});
