import t from 'tap';
import { buildTestApp, databaseKinds } from './helpers/app.js';

for (const kind of databaseKinds()) {
  t.test(`health on ${kind}`, async (t) => {
    const { app, database } = await buildTestApp(t, { kind });

    const live = await app.inject({ method: 'GET', url: '/health' });
    t.equal(live.statusCode, 200);
    t.same(live.json(), { status: 'ok' });

    const ready = await app.inject({ method: 'GET', url: '/health/db' });
    t.equal(ready.statusCode, 200);
    t.equal(ready.json().database, kind);
    t.type(ready.json().latencyMs, 'number');

    await database.close();
    const down = await app.inject({ method: 'GET', url: '/health/db' });
    t.equal(down.statusCode, 503);
    t.equal(down.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.equal(down.json().code, 'DATABASE_UNAVAILABLE');
  });
}

t.test('problem+json for unknown routes, malformed JSON and oversized bodies', async (t) => {
  const { app } = await buildTestApp(t);

  const missing = await app.inject({ method: 'GET', url: '/v1/nothing-here' });
  t.equal(missing.statusCode, 404);
  t.match(missing.json(), { status: 404, code: 'ROUTE_NOT_FOUND', type: /^urn:faqchat:problem:/, title: String, detail: String });

  const malformed = await app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"email":' });
  t.equal(malformed.statusCode, 400);
  t.equal(malformed.json().code, 'MALFORMED_JSON');

  const huge = await app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }),
  });
  t.equal(huge.statusCode, 413);
  t.equal(huge.json().code, 'PAYLOAD_TOO_LARGE');
});

t.test('the OpenAPI document and its UI are served', async (t) => {
  const { app } = await buildTestApp(t);
  const document = await app.inject({ method: 'GET', url: '/openapi.json' });
  t.equal(document.statusCode, 200);
  t.equal(document.json().openapi, '3.1.0');
  t.ok(document.json().paths['/health/db'], 'documents the health routes');
  const ui = await app.inject({ method: 'GET', url: '/docs/' });
  t.equal(ui.statusCode, 200);
  t.match(ui.headers['content-type'], /text\/html/);
});
