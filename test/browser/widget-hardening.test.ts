import t from 'tap';
import { ask, lastMessageWhenIdle, messages, openWidget, pageRecord, startWidgetEnv, widgetReady } from './helpers.js';

const env = await startWidgetEnv(t);

t.afterEach(() => env.fake.reset());

const clean = { errors: [], rejections: [], violations: [], dialogs: [] };

t.test('works under a strict Content-Security-Policy without a single violation', async (t) => {
  const owner = await env.owner({ widgetColor: '#0a7d32' });
  const policy = `default-src 'self'; script-src ${env.serverOrigin}; connect-src ${env.serverOrigin}; style-src 'self'`;
  const page = await env.newPage();
  const response = await page.goto(env.embed(owner.key, { headers: { 'content-security-policy': policy } }));
  t.equal(response?.headers()['content-security-policy'], policy, 'the host page is served with the policy');
  await openWidget(page);
  t.equal(await page.locator('faqchat-widget .b').evaluate((element) => getComputedStyle(element).backgroundColor), 'rgb(10, 125, 50)', 'styled');
  env.fake.script({ reply: 'Yes, **strictly** allowed.' });
  await ask(page, 'Does it work under CSP?');
  t.same(await lastMessageWhenIdle(page), ['a', 'Yes, strictly allowed.']);
  t.same(await pageRecord(page), clean, 'no securitypolicyviolation, no error');
});

t.test('hostile host CSS does not change the widget', async (t) => {
  const owner = await env.owner({ widgetColor: '#123456' });
  const look = async (url: string) => {
    const page = await env.newPage();
    await page.goto(url);
    await widgetReady(page);
    const bubble = page.locator('faqchat-widget .b');
    const style = await bubble.evaluate((element) => {
      const computed = getComputedStyle(element);
      return { background: computed.backgroundColor, radius: computed.borderRadius, position: computed.position, display: computed.display };
    });
    return { page, style, box: await bubble.boundingBox() };
  };
  const normal = await look(env.embed(owner.key));
  const hostile = await look(
    env.embed(owner.key, {
      head: '<style>* { all: unset !important } button { display: none !important } div { background: red !important; font-size: 40px !important } faqchat-widget { display: none !important; opacity: 0 !important }</style>',
    }),
  );
  t.same(hostile.style, normal.style, 'same computed look');
  t.same(hostile.box, normal.box, 'same place and size');
  t.equal(hostile.style.background, 'rgb(18, 52, 86)');

  await openWidget(hostile.page);
  const panel = hostile.page.locator('faqchat-widget .p');
  t.equal(await panel.evaluate((element) => getComputedStyle(element).backgroundColor), 'rgb(255, 255, 255)', 'the panel keeps its own background');
  env.fake.script({ reply: 'Still fine.' });
  await ask(hostile.page, 'Are you there?');
  t.same(await lastMessageWhenIdle(hostile.page), ['a', 'Still fine.']);
  t.same(await pageRecord(hostile.page), clean);
});

t.test('keyboard only: Tab to the bubble, Enter opens, Enter sends, Escape closes and returns focus', async (t) => {
  const owner = await env.owner();
  const page = await env.newPage();
  await page.goto(env.embed(owner.key));
  await widgetReady(page);
  const focused = () =>
    page.evaluate(() => {
      const active = document.activeElement;
      const inner = active?.shadowRoot?.activeElement;
      return active?.localName === 'faqchat-widget' && inner ? `${inner.localName}.${inner.className}` : String(active?.localName);
    });

  await page.keyboard.press('Tab');
  t.equal(await focused(), 'button.b', 'Tab reaches the bubble');
  t.equal(
    await page.locator('faqchat-widget .b').evaluate((element) => getComputedStyle(element).outlineStyle),
    'solid',
    'with a visible focus ring',
  );
  await page.keyboard.press('Enter');
  await page.locator('faqchat-widget .p').waitFor({ state: 'visible' });
  t.equal(await focused(), 'input.', 'focus moved to the input');

  env.fake.script({ reply: 'Typed and answered.' });
  await page.keyboard.type('Can I use only the keyboard?');
  await page.keyboard.press('Enter');
  t.same(await lastMessageWhenIdle(page), ['a', 'Typed and answered.']);
  t.equal(await focused(), 'input.', 'focus stays in the input for the next question');

  await page.keyboard.press('Escape');
  await page.locator('faqchat-widget .p').waitFor({ state: 'hidden' });
  t.equal(await focused(), 'button.b', 'focus returned to the bubble');
  t.equal(await page.locator('faqchat-widget .b').getAttribute('aria-expanded'), 'false');

  await page.keyboard.press('Enter');
  await page.locator('faqchat-widget .p').waitFor({ state: 'visible' });
  await page.keyboard.press('Tab');
  t.equal(await focused(), 'button.', 'Tab moves on from the input to the send button');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  t.equal(await focused(), 'button.', 'and back to the header buttons');
  await page.keyboard.press('Enter');
  t.same(await messages(page), [['a', 'Hi! Ask me anything about Acme.']], '"New chat" works from the keyboard');
  t.same(await pageRecord(page), clean);
});

t.test('on a phone the open panel fills the screen and the input does not trigger zoom', async (t) => {
  const owner = await env.owner();
  const page = await env.newPage({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
  await page.goto(env.embed(owner.key));
  await openWidget(page);
  t.same(await page.locator('faqchat-widget .p').boundingBox(), { x: 0, y: 0, width: 375, height: 667 });
  const fontSize = await page.locator('faqchat-widget input').evaluate((element) => parseFloat(getComputedStyle(element).fontSize));
  t.ok(fontSize >= 16, `input font-size ${fontSize}px ≥ 16px`);
  await page.locator('faqchat-widget [aria-label="Close chat"]').tap();
  await page.locator('faqchat-widget .p').waitFor({ state: 'hidden' });

  const desktop = await env.newPage({ viewport: { width: 1280, height: 800 } });
  await desktop.goto(env.embed(owner.key));
  await openWidget(desktop);
  const box = (await desktop.locator('faqchat-widget .p').boundingBox())!;
  t.ok(box.width < 500 && box.height < 800, 'a floating panel on a wide screen');
});

t.test('the /demo page embeds a working widget under its own strict CSP', async (t) => {
  const owner = await env.owner();
  const page = await env.newPage();
  // The app's PUBLIC_URL is http://faqchat.test: route that origin to the listening app.
  await page.context().route('http://faqchat.test/**', async (route) => {
    const response = await route.fetch({ url: route.request().url().replace('http://faqchat.test', env.serverOrigin) });
    await route.fulfill({ response });
  });
  const response = await page.goto(`http://faqchat.test/demo?key=${owner.key}`);
  t.match(response?.headers()['content-security-policy'], /default-src 'none'/);
  await openWidget(page);
  await ask(page, 'Demo?');
  t.same(await lastMessageWhenIdle(page), ['a', 'This is the answer from the FAQ.']);
  t.same(await pageRecord(page), clean);
});
