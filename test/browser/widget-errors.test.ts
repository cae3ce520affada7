import t, { type Test } from 'tap';
import type { Page } from 'playwright-core';
import { revokeWidgetKey } from '../helpers/widget-fixtures.js';
import { ask, lastMessageWhenIdle, messages, openWidget, pageRecord, startWidgetEnv } from './helpers.js';

// Two questions a minute per visitor, so the rate limit is reachable in a test.
const env = await startWidgetEnv(t, { env: { RATE_LIMIT_VISITOR_PER_MINUTE: '2' } });

t.afterEach(() => env.fake.reset());


/** Nothing reached the host page: no error event, no unhandled rejection, no dialog. */
const hostUntouched = async (t: Test, page: Page) => {
  const record = await pageRecord(page);
  t.same(record.errors, [], 'no error reached window.onerror');
  t.same(record.rejections, [], 'no unhandled rejection');
  t.same(record.dialogs, []);
};

t.test('a key revoked while the page is open: a friendly message', async (t) => {
  const owner = await env.owner();
  const page = await env.newPage();
  await page.goto(env.embed(owner.key));
  await openWidget(page);
  await ask(page, 'First?');
  t.same(await lastMessageWhenIdle(page), ['a', 'This is the answer from the FAQ.']);

  await revokeWidgetKey(env.database.db, owner.apiKeyId);
  env.app.widgetKeys.invalidate(owner.key);
  await ask(page, 'Still there?');
  t.same(await lastMessageWhenIdle(page), ['e', 'This chat is not available right now.']);
  t.equal(await page.locator('faqchat-widget input').isEnabled(), true, 'the visitor can still type');
  await hostUntouched(t, page);
});

t.test('a revoked key at page load: the panel says the chat is not available', async (t) => {
  const owner = await env.owner();
  await revokeWidgetKey(env.database.db, owner.apiKeyId);
  env.app.widgetKeys.invalidate(owner.key);
  const page = await env.newPage();
  await page.goto(env.embed(owner.key));
  await openWidget(page);
  t.same(await messages(page), [['e', 'This chat is not available right now.']]);
  await hostUntouched(t, page);
});

t.test('an origin the owner did not allow: the same calm message (the server withholds CORS from refused origins)', async (t) => {
  const owner = await env.owner({ allowedOrigins: ['https://shop.example.com'] });
  const page = await env.newPage();
  await page.goto(env.embed(owner.key));
  await openWidget(page);
  t.same(await messages(page), [['e', 'This chat is not available right now.']]);
  await hostUntouched(t, page);
});

t.test('over the per-visitor rate limit', async (t) => {
  const owner = await env.owner();
  const page = await env.newPage();
  await page.goto(env.embed(owner.key));
  await openWidget(page);
  for (const question of ['One?', 'Two?']) {
    await ask(page, question);
    t.same(await lastMessageWhenIdle(page), ['a', 'This is the answer from the FAQ.']);
  }
  await ask(page, 'Three?');
  t.same(await lastMessageWhenIdle(page), ['e', 'You are sending messages too quickly. Please wait a minute and try again.']);
  await hostUntouched(t, page);
});

t.test('the daily message cap', async (t) => {
  const owner = await env.owner({ dailyMessageLimit: 1 });
  const page = await env.newPage();
  await page.goto(env.embed(owner.key));
  await openWidget(page);
  await ask(page, 'One?');
  t.same(await lastMessageWhenIdle(page), ['a', 'This is the answer from the FAQ.']);
  await ask(page, 'Two?');
  t.same(await lastMessageWhenIdle(page), ['e', 'This chat has reached its limit for today. Please try again tomorrow.']);
  await hostUntouched(t, page);
});

t.test('the upstream failing (5xx, then a bad owner key) shows "temporarily unavailable"', async (t) => {
  const owner = await env.owner();
  const page = await env.newPage();
  await page.goto(env.embed(owner.key));
  await openWidget(page);
  const unavailable = 'The assistant is temporarily unavailable. Please try again later.';

  env.fake.failNext(10, { status: 500 });
  await ask(page, 'Anyone?');
  t.same(await lastMessageWhenIdle(page), ['e', unavailable]);

  env.fake.reset();
  env.fake.failNext(1, { status: 401, code: 'invalid_api_key' });
  await ask(page, 'Anyone now?');
  t.same(await lastMessageWhenIdle(page), ['e', unavailable]);
  await hostUntouched(t, page);
});

t.test('an answer cut mid-stream keeps what arrived, adds a note, and the next question works', async (t) => {
  const owner = await env.owner();
  const page = await env.newPage();
  await page.goto(env.embed(owner.key));
  await openWidget(page);
  env.fake.script({ reply: 'The whole answer would be here', deltas: 4, tokenGapMs: 100, cutAfterDeltas: 2 });
  await ask(page, 'And a broken stream?');
  t.equal((await lastMessageWhenIdle(page))[0], 'e', 'the cut answer ends with an error note');
  const log = await messages(page);
  t.match(log.at(-2)!, ['a', /^The whole/], 'after the part that arrived');

  env.fake.reset();
  await ask(page, 'Back?');
  t.same(await lastMessageWhenIdle(page), ['a', 'This is the answer from the FAQ.'], 'recovers once the upstream is back');
  await hostUntouched(t, page);
});

t.test('the server unreachable: a network message, never an exception on the host page', async (t) => {
  const owner = await env.owner();
  const page = await env.newPage();
  await page.goto(env.embed(owner.key));
  await openWidget(page);
  await page.context().route(`${env.serverOrigin}/v1/widget/chat*`, (route) => route.abort('connectionrefused'));
  await ask(page, 'Hello?');
  t.same(await lastMessageWhenIdle(page), ['e', 'Cannot reach the chat service. Check your connection and try again.']);
  await hostUntouched(t, page);
});

t.test('a page where the script is missing data-key stays untouched', async (t) => {
  const page = await env.newPage();
  const url = env.hostPage({ html: `<!doctype html><title>x</title><p>No key</p><script src="${env.serverOrigin}/widget.js" async></script>` });
  const warnings: string[] = [];
  page.on('console', (message) => void (message.type() === 'warning' && warnings.push(message.text())));
  await page.goto(url);
  await page.waitForFunction(() => 'faqchat' in window);
  t.equal(await page.locator('faqchat-widget').count(), 0);
  t.match(warnings.join('\n'), /data-key/, 'a console hint for the site owner');
  await hostUntouched(t, page);
});
