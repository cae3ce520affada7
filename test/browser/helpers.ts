/**
 * Shared setup for the widget's browser tests: a fake OpenAI, the real app listening on
 * 127.0.0.1, host pages served from a different origin (localhost), and one Chromium per
 * test file. The widget is exercised exactly as a site owner embeds it.
 */
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { buildTestApp, type TestApp, type TestContext } from '../helpers/app.js';
import { createWidgetOwner, type WidgetOwner, type WidgetOwnerOverrides } from '../helpers/widget-fixtures.js';
import { type FakeOpenAi, startFakeOpenAi } from '../support/fake-openai.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface HostPage {
  html: string;
  headers?: Record<string, string>;
}

/** What the in-page recorder (installed before any page script) has seen. */
export interface PageRecord {
  errors: string[];
  rejections: string[];
  violations: string[];
  dialogs: string[];
}

export interface WidgetEnv extends TestApp {
  fake: FakeOpenAi;
  /** Where the app (API and /widget.js) listens, e.g. http://127.0.0.1:41234 */
  serverOrigin: string;
  /** A different origin serving the host pages, e.g. http://localhost:41235 */
  hostOrigin: string;
  browser: Browser;
  owner(overrides?: WidgetOwnerOverrides): Promise<WidgetOwner>;
  /** Serves `page` on the host origin and returns its URL. */
  hostPage(page: HostPage): string;
  /** The owner's snippet, as POST /v1/api-key returns it, pointing at the listening app. */
  snippet(key: string, attributes?: string): string;
  /** A plain host page embedding the widget. */
  embed(key: string, options?: { head?: string; body?: string; headers?: Record<string, string>; attributes?: string }): string;
  /** A fresh context (own localStorage) and page with the error/CSP/dialog recorder installed. */
  newPage(options?: BrowserContextOptions): Promise<Page>;
}

/** Fails (never skips) when Chromium is missing: CI installs it, and a silent skip would hide a broken widget. */
export const requireChromium = (): void => {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. The widget browser tests need Debian's chromium: ` +
        'apt-get update && apt-get install -y chromium (or set CHROMIUM_PATH). Browsers are never downloaded.',
    );
  }
};

const recorder = () => {
  const record = { errors: [] as string[], rejections: [] as string[], violations: [] as string[], dialogs: [] as string[] };
  Object.defineProperty(window, '__faqchatTestRecord', { value: record });
  window.addEventListener('error', (event) => record.errors.push(String(event.message || event.error)));
  window.addEventListener('unhandledrejection', (event) => record.rejections.push(String(event.reason)));
  document.addEventListener('securitypolicyviolation', (event) =>
    record.violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`),
  );
  for (const name of ['alert', 'confirm', 'prompt'] as const) {
    Object.defineProperty(window, name, { value: (message: unknown) => void record.dialogs.push(`${name}:${String(message)}`) });
  }
};

export const pageRecord = (page: Page): Promise<PageRecord> =>
  page.evaluate(() => (window as unknown as { __faqchatTestRecord: PageRecord }).__faqchatTestRecord);

export const startWidgetEnv = async (t: TestContext, options: { env?: Record<string, string> } = {}): Promise<WidgetEnv> => {
  requireChromium();
  const fake = await startFakeOpenAi();
  t.teardown(() => fake.close());
  const testApp = await buildTestApp(t, { env: { OPENAI_BASE_URL: `${fake.url}/v1`, ...options.env } });
  await testApp.app.listen({ host: '127.0.0.1', port: 0 });
  const serverOrigin = `http://127.0.0.1:${(testApp.app.server.address() as AddressInfo).port}`;

  const pages = new Map<string, HostPage>();
  let pageCount = 0;
  const hostServer = createServer((request, response) => {
    const page = pages.get((request.url ?? '/').split('?')[0]!);
    if (!page) return response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...page.headers });
    response.end(page.html);
  });
  hostServer.listen(0, '127.0.0.1');
  await once(hostServer, 'listening');
  t.teardown(() => new Promise<void>((resolve) => hostServer.close(() => resolve())));
  const hostOrigin = `http://localhost:${(hostServer.address() as AddressInfo).port}`;

  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--host-resolver-rules=MAP localhost 127.0.0.1'],
  });
  t.teardown(() => browser.close());

  const snippet = (key: string, attributes = '') => `<script src="${serverOrigin}/widget.js" data-key="${key}"${attributes} async></script>`;
  const hostPage = (page: HostPage) => {
    const path = `/page-${++pageCount}.html`;
    pages.set(path, page);
    return `${hostOrigin}${path}`;
  };

  return {
    ...testApp,
    fake,
    serverOrigin,
    hostOrigin,
    browser,
    owner: (overrides = {}) => createWidgetOwner(testApp, { title: 'Acme Help', greeting: 'Hi! Ask me anything about Acme.', ...overrides }),
    hostPage,
    snippet,
    embed: (key, embedOptions = {}) =>
      hostPage({
        html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Acme</title>${embedOptions.head ?? ''}</head><body>${embedOptions.body ?? '<h1>Acme Widgets</h1>'}${snippet(key, embedOptions.attributes)}</body></html>`,
        ...(embedOptions.headers ? { headers: embedOptions.headers } : {}),
      }),
    async newPage(contextOptions = {}) {
      const context = await browser.newContext(contextOptions);
      t.teardown(() => context.close());
      await context.addInitScript(recorder);
      const page = await context.newPage();
      page.on('dialog', (dialog) => void dialog.dismiss());
      return page;
    },
  };
};

// ---- Reading the widget through its (open) shadow root ----

/** Waits until the widget has drawn its bubble. Playwright's CSS locators pierce open shadow roots. */
export const widgetReady = async (page: Page): Promise<void> => {
  await page.locator('faqchat-widget .b').waitFor({ state: 'visible' });
};

export const openWidget = async (page: Page): Promise<void> => {
  await widgetReady(page);
  await page.locator('faqchat-widget .b').click();
  await page.locator('faqchat-widget .p').waitFor({ state: 'visible' });
};

/** The messages in the log, as [kind, text] with kind u (visitor), a (assistant) or e (error). */
export const messages = (page: Page): Promise<Array<[string, string]>> =>
  page.evaluate(() =>
    Array.from(document.querySelector('faqchat-widget')?.shadowRoot?.querySelectorAll('.l .m:not(.t)') ?? [], (element) => [
      element.classList[1] ?? '',
      (element as HTMLElement).innerText,
    ]),
  ) as Promise<Array<[string, string]>>;

/** Types a question in the open panel and sends it with Enter. */
export const ask = async (page: Page, question: string): Promise<void> => {
  const input = page.locator('faqchat-widget input');
  await input.fill(question);
  await input.press('Enter');
};

/** Resolves when the widget is idle again (no request in flight) and returns the last message. */
export const lastMessageWhenIdle = async (page: Page): Promise<[string, string]> => {
  await page.waitForFunction(() => {
    const root = document.querySelector('faqchat-widget')?.shadowRoot;
    return !!root && !root.querySelector('.l[aria-busy]') && !root.querySelector('.t');
  });
  const all = await messages(page);
  return all[all.length - 1] ?? ['', ''];
};
