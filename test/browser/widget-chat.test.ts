import { mkdirSync } from 'node:fs';
import t from 'tap';
import { ask, lastMessageWhenIdle, messages, openWidget, pageRecord, startWidgetEnv, widgetReady } from './helpers.js';

const env = await startWidgetEnv(t);

t.afterEach(() => env.fake.reset());

t.test('the bubble wears the owner colour, opens a focused panel and streams the answer as it arrives', async (t) => {
  const owner = await env.owner({ widgetColor: '#6a1b9a' });
  const page = await env.newPage();
  await page.goto(env.embed(owner.key));
  await widgetReady(page);

  const bubble = page.locator('faqchat-widget .b');
  t.equal(await bubble.evaluate((element) => getComputedStyle(element).backgroundColor), 'rgb(106, 27, 154)');
  t.equal(await bubble.getAttribute('aria-expanded'), 'false');
  t.match(await bubble.getAttribute('aria-label'), /Acme Help/);
  // #6a1b9a is dark: white contrasts more than black.
  t.equal(await bubble.evaluate((element) => getComputedStyle(element).color), 'rgb(255, 255, 255)');

  await openWidget(page);
  t.equal(await bubble.getAttribute('aria-expanded'), 'true');
  t.equal(await page.locator('faqchat-widget [role=dialog]').getAttribute('aria-label'), 'Acme Help');
  t.ok(await page.locator('faqchat-widget input').evaluate((input) => input.getRootNode() instanceof ShadowRoot && (input.getRootNode() as ShadowRoot).activeElement === input), 'focus is in the input');
  t.same(await messages(page), [['a', 'Hi! Ask me anything about Acme.']], 'the greeting');

  const reply = 'We are open Monday to Friday, from nine in the morning until five in the afternoon.';
  env.fake.script({ reply, deltas: 6, tokenGapMs: 150 });
  await ask(page, 'When are you open?');
  const seen = new Set<string>();
  for (;;) {
    const state = await page.evaluate(() => {
      const root = document.querySelector('faqchat-widget')!.shadowRoot!;
      const answers = root.querySelectorAll('.l .m.a:not(.t)');
      return { text: answers.length > 1 ? (answers[answers.length - 1] as HTMLElement).innerText : '', busy: !!root.querySelector('.l[aria-busy]') };
    });
    if (state.text) seen.add(state.text);
    if (!state.busy) break;
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
  const intermediate = [...seen].filter((text) => text !== reply);
  t.ok(intermediate.length >= 2, `saw ${intermediate.length} partial answers before the whole one: ${JSON.stringify(intermediate)}`);
  for (const text of intermediate) t.ok(reply.startsWith(text), `"${text}" is a prefix of the answer`);
  t.same(await messages(page), [
    ['a', 'Hi! Ask me anything about Acme.'],
    ['u', 'When are you open?'],
    ['a', reply],
  ]);
  const upstream = env.fake.requests.at(-1)!;
  t.match(JSON.stringify(upstream.body?.messages), /When are you open\?/, 'the question reached the upstream');

  if (process.env.UPDATE_SCREENSHOT === '1') {
    mkdirSync(new URL('../../docs/', import.meta.url), { recursive: true });
    await page.screenshot({ path: new URL('../../docs/widget.png', import.meta.url).pathname });
  }
  t.same(await pageRecord(page), { errors: [], rejections: [], violations: [], dialogs: [] });
});

t.test('answers render a safe markdown subset; HTML and javascript: links stay inert', async (t) => {
  const owner = await env.owner();
  const page = await env.newPage();
  await page.goto(env.embed(owner.key));
  await openWidget(page);
  env.fake.script({
    reply: [
      'Our **opening hours** are:',
      '- Monday to *Friday*',
      '- Saturday mornings',
      '',
      '1. Call us',
      '2. Use `code 42`',
      '',
      'See [the hours page](https://example.com/hours) for details.',
      '<img src=x onerror=alert(1)> and [click me](javascript:alert(2)) and <script>alert(3)</script>',
      'A [wiki link](https://en.wikipedia.org/wiki/Faq_(disambiguation)).',
    ].join('\n'),
    deltas: 5,
  });
  await ask(page, 'Hours?');
  await lastMessageWhenIdle(page);

  const rendered = await page.evaluate(() => {
    const root = document.querySelector('faqchat-widget')!.shadowRoot!;
    const answer = [...root.querySelectorAll('.l .m.a')].at(-1)!;
    const link = answer.querySelector('a');
    return {
      strong: [...answer.querySelectorAll('strong')].map((element) => element.textContent),
      em: [...answer.querySelectorAll('em')].map((element) => element.textContent),
      bullets: [...answer.querySelectorAll('ul > li')].map((element) => element.textContent),
      numbered: [...answer.querySelectorAll('ol > li')].map((element) => element.textContent),
      code: [...answer.querySelectorAll('code')].map((element) => element.textContent),
      links: [...answer.querySelectorAll('a')].map((element) => ({ href: element.getAttribute('href'), text: element.textContent })),
      target: link?.getAttribute('target'),
      rel: link?.getAttribute('rel'),
      images: root.querySelectorAll('img').length + document.querySelectorAll('img').length,
      scripts: answer.querySelectorAll('script').length,
      text: (answer as HTMLElement).innerText,
    };
  });
  t.same(rendered.strong, ['opening hours']);
  t.same(rendered.em, ['Friday']);
  t.same(rendered.bullets, ['Monday to Friday', 'Saturday mornings']);
  t.same(rendered.numbered, ['Call us', 'Use code 42']);
  t.same(rendered.code, ['code 42']);
  t.same(
    rendered.links,
    [
      { href: 'https://example.com/hours', text: 'the hours page' },
      { href: 'https://en.wikipedia.org/wiki/Faq_(disambiguation)', text: 'wiki link' },
    ],
    'only http(s) links are links',
  );
  t.equal(rendered.target, '_blank');
  t.equal(rendered.rel, 'noopener noreferrer');
  t.equal(rendered.images, 0, 'no <img> element was created');
  t.equal(rendered.scripts, 0);
  t.match(rendered.text, '<img src=x onerror=alert(1)>', 'HTML shows as literal text');
  t.match(rendered.text, 'and click me and <script>alert(3)</script>', 'the javascript: link is dead text');
  t.same(await pageRecord(page), { errors: [], rejections: [], violations: [], dialogs: [] }, 'nothing ran');
});

t.test('a reload restores the conversation; "New chat" starts over', async (t) => {
  const owner = await env.owner();
  const page = await env.newPage();
  const url = env.embed(owner.key);
  await page.goto(url);
  await openWidget(page);
  env.fake.script({ reply: 'First answer.' });
  await ask(page, 'First question');
  t.same(await lastMessageWhenIdle(page), ['a', 'First answer.']);
  env.fake.script({ reply: 'Second answer.' });
  await ask(page, 'Second question');
  t.same(await lastMessageWhenIdle(page), ['a', 'Second answer.']);
  const stored = await page.evaluate((key) => JSON.parse(localStorage.getItem(`faqchat:${key}`) ?? '{}'), owner.key);
  t.match(stored, { c: /^[0-9a-f-]{36}$/, v: /^[0-9a-f]{32}$/ }, 'conversation and visitor ids are kept per key');
  t.equal(env.fake.requests.length, 2);
  t.match(JSON.stringify(env.fake.requests[1]!.body?.messages), /First answer/, 'the second turn continued the conversation');

  await page.reload();
  await openWidget(page);
  const transcript = [
    ['a', 'Hi! Ask me anything about Acme.'],
    ['u', 'First question'],
    ['a', 'First answer.'],
    ['u', 'Second question'],
    ['a', 'Second answer.'],
  ];
  t.same(await messages(page), transcript, 'restored after the reload');

  await page.locator('faqchat-widget .h button', { hasText: 'New chat' }).click();
  t.same(await messages(page), [['a', 'Hi! Ask me anything about Acme.']], 'cleared');
  const afterReset = await page.evaluate((key) => JSON.parse(localStorage.getItem(`faqchat:${key}`) ?? '{}'), owner.key);
  t.notOk(afterReset.c, 'the conversation id is forgotten');
  t.equal(afterReset.v, stored.v, 'the visitor id is kept');

  await page.reload();
  await openWidget(page);
  t.same(await messages(page), [['a', 'Hi! Ask me anything about Acme.']], 'still empty after another reload');
  env.fake.script({ reply: 'Fresh answer.' });
  await ask(page, 'Third question');
  t.same(await lastMessageWhenIdle(page), ['a', 'Fresh answer.']);
  t.notMatch(JSON.stringify(env.fake.requests.at(-1)!.body?.messages), /First question/, 'a new conversation has no old turns');
  t.same(await pageRecord(page), { errors: [], rejections: [], violations: [], dialogs: [] });
});

t.test('window.faqchat opens, closes and resets; a second copy of the script is a no-op', async (t) => {
  const owner = await env.owner();
  const page = await env.newPage();
  await page.goto(env.embed(owner.key, { body: `<h1>Twice</h1>${env.snippet(owner.key)}` }));
  await widgetReady(page);
  t.equal(await page.locator('faqchat-widget').count(), 1, 'one widget although the script is included twice');
  await page.evaluate(() => (window as unknown as { faqchat: { open(): void } }).faqchat.open());
  await page.locator('faqchat-widget .p').waitFor({ state: 'visible' });
  env.fake.script({ reply: 'Sure.' });
  await ask(page, 'Hello?');
  t.same(await lastMessageWhenIdle(page), ['a', 'Sure.']);
  await page.evaluate(() => (window as unknown as { faqchat: { reset(): void } }).faqchat.reset());
  t.same(await messages(page), [['a', 'Hi! Ask me anything about Acme.']]);
  await page.evaluate(() => (window as unknown as { faqchat: { close(): void } }).faqchat.close());
  await page.locator('faqchat-widget .p').waitFor({ state: 'hidden' });
  t.same(await pageRecord(page), { errors: [], rejections: [], violations: [], dialogs: [] });
});

t.test('a light owner colour gets a black icon; #rgb colours are understood', async (t) => {
  const owner = await env.owner({ widgetColor: '#fe3' });
  const page = await env.newPage();
  await page.goto(env.embed(owner.key, { attributes: ' data-position="left"' }));
  await widgetReady(page);
  const bubble = page.locator('faqchat-widget .b');
  t.same(await bubble.evaluate((element) => [getComputedStyle(element).backgroundColor, getComputedStyle(element).color]), ['rgb(255, 238, 51)', 'rgb(0, 0, 0)']);
  const box = (await bubble.boundingBox())!;
  t.ok(box.x < 100, 'data-position="left" puts the bubble on the left');
});
