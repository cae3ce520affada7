import { eq } from 'drizzle-orm';
import t from 'tap';
import { apiKeys } from '../../src/db/schema.js';
import { buildTestApp, databaseKinds } from '../helpers/app.js';
import { createWidgetOwner, revokeWidgetKey, rotateWidgetKey } from '../helpers/widget-fixtures.js';
import { startFakeOpenAi } from '../support/fake-openai.js';

for (const kind of databaseKinds()) {
  t.test(`widget keys, origins and CORS (${kind})`, async (t) => {
    const fake = await startFakeOpenAi();
    t.teardown(() => fake.close());
    const testApp = await buildTestApp(t, { kind, env: { OPENAI_BASE_URL: `${fake.url}/v1` } });
    const { app, database } = testApp;
    const open = await createWidgetOwner(testApp, { widgetColor: '#ff0000', title: 'Ask Acme', greeting: 'Hello from Acme' });
    const locked = await createWidgetOwner(testApp, { allowedOrigins: ['https://shop.example.com'] });

    t.test('config by header or query parameter', async (t) => {
      const byHeader = await app.inject({ method: 'GET', url: '/v1/widget/config', headers: { 'x-widget-key': open.key } });
      t.equal(byHeader.statusCode, 200);
      t.same(byHeader.json(), { color: '#ff0000', title: 'Ask Acme', greeting: 'Hello from Acme' });
      const byQuery = await app.inject({ method: 'GET', url: `/v1/widget/config?key=${open.key}` });
      t.same(byQuery.json(), byHeader.json());
      t.equal(byQuery.headers.vary, 'Origin');
    });

    t.test('unknown, malformed and missing keys are 401 problems', async (t) => {
      for (const url of ['/v1/widget/config', '/v1/widget/config?key=pk_doesnotexist', '/v1/widget/config?key=%00', `/v1/widget/config?key=${'x'.repeat(5000)}`]) {
        const response = await app.inject({ method: 'GET', url });
        t.equal(response.statusCode, 401, url.slice(0, 60));
        t.match(response.headers['content-type'], /application\/problem\+json/);
        t.equal(response.json().code, 'INVALID_WIDGET_KEY');
      }
      const fromSite = await app.inject({ method: 'GET', url: '/v1/widget/config?key=pk_doesnotexist', headers: { origin: 'https://blog.example' } });
      t.equal(fromSite.statusCode, 401);
      t.equal(fromSite.headers['access-control-allow-origin'], 'https://blog.example', 'the widget can read why it was refused');
      t.notOk(fromSite.headers['access-control-allow-credentials']);
      const chat = await app.inject({ method: 'POST', url: '/v1/widget/chat?key=pk_nope', payload: { message: 'hi' } });
      t.equal(chat.statusCode, 401);
      t.equal(fake.requests.length, 0, 'no upstream call');
    });

    t.test('revoked and rotated keys stop at once', async (t) => {
      const owner = await createWidgetOwner(testApp);
      const ok = await app.inject({ method: 'GET', url: '/v1/widget/config', headers: { 'x-widget-key': owner.key } });
      t.equal(ok.statusCode, 200);

      const rotated = await rotateWidgetKey(database.db, owner.apiKeyId);
      app.widgetKeys.invalidate();
      const old = await app.inject({ method: 'POST', url: '/v1/widget/chat', headers: { 'x-widget-key': owner.key }, payload: { message: 'hi' } });
      t.equal(old.statusCode, 401, 'the rotated-away key is refused');
      const fresh = await app.inject({ method: 'GET', url: '/v1/widget/config', headers: { 'x-widget-key': rotated } });
      t.equal(fresh.statusCode, 200, 'the new key works');

      await revokeWidgetKey(database.db, owner.apiKeyId);
      app.widgetKeys.invalidate();
      const revoked = await app.inject({ method: 'GET', url: '/v1/widget/config', headers: { 'x-widget-key': rotated } });
      t.equal(revoked.statusCode, 401);
      t.equal(revoked.json().code, 'INVALID_WIDGET_KEY');
    });

    t.test('allowed origins: listed passes with CORS, others and missing get 403 without it', async (t) => {
      const allowed = await app.inject({
        method: 'GET',
        url: '/v1/widget/config',
        headers: { 'x-widget-key': locked.key, origin: 'https://shop.example.com' },
      });
      t.equal(allowed.statusCode, 200);
      t.equal(allowed.headers['access-control-allow-origin'], 'https://shop.example.com');
      t.equal(allowed.headers.vary, 'Origin');
      t.notOk(allowed.headers['access-control-allow-credentials']);

      for (const origin of ['https://evil.example', 'https://shop.example.com.evil.example', 'http://shop.example.com', undefined]) {
        const refused = await app.inject({
          method: 'POST',
          url: '/v1/widget/chat',
          headers: { 'x-widget-key': locked.key, ...(origin ? { origin } : {}) },
          payload: { message: 'hi' },
        });
        t.equal(refused.statusCode, 403, `origin ${origin ?? '(missing)'}`);
        t.equal(refused.json().code, 'ORIGIN_NOT_ALLOWED');
        t.notOk(refused.headers['access-control-allow-origin']);
      }
      t.equal(fake.requests.length, 0, 'refused origins never reach the upstream');

      const anyOrigin = await app.inject({ method: 'GET', url: '/v1/widget/config', headers: { 'x-widget-key': open.key, origin: 'https://anywhere.example' } });
      t.equal(anyOrigin.headers['access-control-allow-origin'], 'https://anywhere.example', 'empty allow-list: any site');
      t.notOk(anyOrigin.headers['access-control-allow-credentials']);
    });

    t.test('preflight is cached for a day; simple text/plain requests need none', async (t) => {
      const preflight = await app.inject({
        method: 'OPTIONS',
        url: `/v1/widget/chat?key=${locked.key}`,
        headers: { origin: 'https://shop.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-widget-key' },
      });
      t.equal(preflight.statusCode, 204);
      t.equal(preflight.headers['access-control-allow-origin'], 'https://shop.example.com');
      t.equal(preflight.headers['access-control-max-age'], '86400');
      t.match(preflight.headers['access-control-allow-headers'], /X-Widget-Key/);
      t.match(preflight.headers['access-control-allow-methods'], /POST/);
      t.notOk(preflight.headers['access-control-allow-credentials']);

      const refusedPreflight = await app.inject({
        method: 'OPTIONS',
        url: `/v1/widget/chat?key=${locked.key}`,
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      t.notOk(refusedPreflight.headers['access-control-allow-origin']);

      const simple = await app.inject({
        method: 'POST',
        url: `/v1/widget/chat?key=${open.key}`,
        headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://blog.example' },
        payload: JSON.stringify({ message: 'What are your hours?' }),
      });
      t.equal(simple.statusCode, 200);
      t.equal(simple.json().answer, 'This is the answer from the FAQ.');
      t.equal(simple.headers['access-control-allow-origin'], 'https://blog.example');

      const broken = await app.inject({
        method: 'POST',
        url: `/v1/widget/chat?key=${open.key}`,
        headers: { 'content-type': 'text/plain' },
        payload: '{"message":',
      });
      t.equal(broken.statusCode, 400);
      t.equal(broken.json().code, 'MALFORMED_JSON');
    });

    t.test('bad bodies are 4xx problems', async (t) => {
      const cases: Array<[string, number, string]> = [
        [JSON.stringify({ message: '   ' }), 400, 'VALIDATION_FAILED'],
        [JSON.stringify({ message: 'x'.repeat(1001) }), 400, 'VALIDATION_FAILED'],
        [JSON.stringify({ message: 'hi', conversationId: 'not-a-uuid' }), 400, 'VALIDATION_FAILED'],
        [JSON.stringify({ message: 'hi', visitorId: 'no spaces allowed' }), 400, 'VALIDATION_FAILED'],
        [JSON.stringify({ message: 'x'.repeat(20_000) }), 413, 'PAYLOAD_TOO_LARGE'],
      ];
      for (const [payload, status, code] of cases) {
        const response = await app.inject({ method: 'POST', url: '/v1/widget/chat', headers: { 'x-widget-key': open.key, 'content-type': 'application/json' }, payload });
        t.equal(response.statusCode, status, payload.slice(0, 40));
        t.equal(response.json().code, code);
      }
    });

    t.test('last_used_at is written, but not on every request', async (t) => {
      const owner = await createWidgetOwner(testApp);
      const lastUsed = async () => (await database.db.select({ at: apiKeys.lastUsedAt }).from(apiKeys).where(eq(apiKeys.id, owner.apiKeyId)))[0]!.at;
      t.equal(await lastUsed(), null);
      await app.inject({ method: 'GET', url: '/v1/widget/config', headers: { 'x-widget-key': owner.key } });
      let first: Date | null = null;
      while (!first) first = await lastUsed();
      for (let index = 0; index < 5; index++) await app.inject({ method: 'GET', url: '/v1/widget/config', headers: { 'x-widget-key': owner.key } });
      await new Promise((resolve) => setTimeout(resolve, 50));
      t.same(await lastUsed(), first, 'throttled to about once a minute');
    });

    t.test('the OpenAPI document covers the widget routes', async (t) => {
      const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
      t.ok(document.paths['/v1/widget/config'].get);
      t.match(document.paths['/v1/widget/chat'].post.description, /text\/event-stream/);
      t.same(document.paths['/v1/widget/chat'].post.security, [{ widgetKey: [] }]);
      t.ok(document.paths['/v1/widget/conversations/{id}'].get);
      t.same(document.paths['/v1/conversations'].get.security, [{ bearerAuth: [] }]);
      t.ok(document.paths['/v1/usage'].get);
    });
  });
}
