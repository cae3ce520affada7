import { randomUUID } from 'node:crypto';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { buildTestApp, databaseKinds } from '../helpers/app.js';
import { createWidgetOwner } from '../helpers/widget-fixtures.js';
import { startFakeOpenAi } from '../support/fake-openai.js';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const ask = (app: { inject: Awaited<ReturnType<typeof buildTestApp>>['app']['inject'] }, key: string, ip = '203.0.113.1', accept?: string) =>
  app.inject({
    method: 'POST',
    url: '/v1/widget/chat',
    remoteAddress: ip,
    headers: { 'x-widget-key': key, ...(accept ? { accept } : {}) },
    payload: { message: 'hello?' },
  });

for (const kind of databaseKinds()) {
  t.test(`rate limits and the daily cap (${kind})`, async (t) => {
    const fake = await startFakeOpenAi();
    t.teardown(() => fake.close());
    const testApp = await buildTestApp(t, {
      kind,
      env: { OPENAI_BASE_URL: `${fake.url}/v1`, RATE_LIMIT_VISITOR_PER_MINUTE: '3', RATE_LIMIT_KEY_PER_MINUTE: '5' },
    });
    const { app } = testApp;

    t.test('per visitor IP, then per key', async (t) => {
      const owner = await createWidgetOwner(testApp);
      for (let index = 0; index < 3; index++) t.equal((await ask(app, owner.key, '203.0.113.1')).statusCode, 200);
      const limited = await ask(app, owner.key, '203.0.113.1');
      t.equal(limited.statusCode, 429);
      t.match(limited.headers['content-type'], /application\/problem\+json/);
      t.match(limited.json(), { status: 429, code: 'RATE_LIMITED', type: String, title: String, detail: String });
      t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After is set');

      t.equal((await ask(app, owner.key, '203.0.113.2')).statusCode, 200, 'another visitor is not affected');
      // Requests refused per visitor do not use up the key's budget (one abuser cannot starve the others).
      t.equal((await ask(app, owner.key, '203.0.113.3')).statusCode, 200);
      const keyLimited = await ask(app, owner.key, '203.0.113.4');
      t.equal(keyLimited.statusCode, 429, 'the per-key limit caps all visitors together');
      t.equal(keyLimited.json().code, 'RATE_LIMITED');
      t.ok(Number(keyLimited.headers['retry-after']) > 0);

      const other = await createWidgetOwner(testApp);
      t.equal((await ask(app, other.key, '203.0.113.1')).statusCode, 200, 'limits are per key');
      t.equal(fake.requests.length, 6, 'refused requests never reach the upstream');
    });

    t.test('daily message cap', async (t) => {
      const owner = await createWidgetOwner(testApp, { dailyMessageLimit: 2 });
      t.equal((await ask(app, owner.key, '198.51.100.1')).statusCode, 200);
      t.equal((await ask(app, owner.key, '198.51.100.2')).statusCode, 200);
      const capped = await ask(app, owner.key, '198.51.100.3', 'text/event-stream');
      t.equal(capped.statusCode, 429);
      t.equal(capped.json().code, 'DAILY_LIMIT_REACHED');
      t.match(capped.json().detail, /today/);
      const retryAfter = Number(capped.headers['retry-after']);
      t.ok(retryAfter > 0 && retryAfter <= 86_400, 'Retry-After points at the next UTC midnight');
    });
  });
}

t.test('limits are shared through Redis by several instances', async (t) => {
  const fake = await startFakeOpenAi();
  t.teardown(() => fake.close());
  const env = {
    OPENAI_BASE_URL: `${fake.url}/v1`,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `faqchat:test:${randomUUID()}:`,
    RATE_LIMIT_VISITOR_PER_MINUTE: '2',
    RATE_LIMIT_KEY_PER_MINUTE: '100',
  };
  const first = await buildTestApp(t, { env });
  // A second instance on the same database and the same Redis (it must not close the shared database).
  const second = await buildApp(first.config, { database: { ...first.database, close: async () => {} } });
  t.teardown(() => second.close());
  const owner = await createWidgetOwner(first);

  t.equal((await ask(first.app, owner.key)).statusCode, 200);
  t.equal((await ask(second, owner.key)).statusCode, 200);
  const limited = await ask(first.app, owner.key);
  t.equal(limited.statusCode, 429, 'the third request is refused, whichever instance counted the first two');
  t.equal(limited.json().code, 'RATE_LIMITED');
  t.equal((await ask(second, owner.key)).statusCode, 429);
});

t.test('Redis down: the chat fails closed, the rest keeps working', async (t) => {
  const fake = await startFakeOpenAi();
  t.teardown(() => fake.close());
  const testApp = await buildTestApp(t, { env: { OPENAI_BASE_URL: `${fake.url}/v1`, REDIS_URL: 'redis://127.0.0.1:1' } });
  const owner = await createWidgetOwner(testApp);
  const refused = await ask(testApp.app, owner.key);
  t.equal(refused.statusCode, 503);
  t.equal(refused.json().code, 'SERVICE_UNAVAILABLE');
  t.equal(fake.requests.length, 0, 'no upstream spend without a working limiter');
  const config = await testApp.app.inject({ method: 'GET', url: '/v1/widget/config', headers: { 'x-widget-key': owner.key } });
  t.equal(config.statusCode, 200);
});
