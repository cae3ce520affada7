import { Writable } from 'node:stream';
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

t.test('errors raised before routing are problem+json too', async (t) => {
  const { app } = await buildTestApp(t);
  const longParam = await app.inject({ method: 'GET', url: `/v1/conversations/${'a'.repeat(500)}` });
  t.equal(longParam.statusCode, 414);
  t.match(longParam.headers['content-type'], /application\/problem\+json/);
  t.equal(longParam.json().code, 'URI_TOO_LONG');

  const badEscape = await app.inject({ method: 'GET', url: '/v1/conversations/%E0%A4%A' });
  t.equal(badEscape.statusCode, 400);
  t.match(badEscape.headers['content-type'], /application\/problem\+json/);
  t.equal(badEscape.json().code, 'BAD_REQUEST');
});

t.test('a caller-supplied request id is kept only when short and plain', async (t) => {
  const lines: string[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const { app } = await buildTestApp(t, { logStream });
  await app.inject({ method: 'GET', url: '/v1/me', headers: { 'x-request-id': 'edge-1234' } });
  await app.inject({ method: 'GET', url: '/v1/me', headers: { 'x-request-id': `x${'y'.repeat(4000)}` } });
  const ids = lines.map((line) => JSON.parse(line) as { reqId?: string }).flatMap((entry) => (entry.reqId ? [entry.reqId] : []));
  t.ok(ids.includes('edge-1234'), 'a plain id is propagated');
  t.notOk(ids.some((id) => id.length > 64), 'an oversized id never reaches the logs');
  t.ok(ids.some((id) => /^[0-9a-f-]{36}$/.test(id)), 'it is replaced by a fresh UUID');
});

t.test('LOG_LEVEL=silent is silent, and routine probes are not request-logged at info', async (t) => {
  const lines: string[] = [];
  const capture = () =>
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
  const silent = await buildTestApp(t, { logStream: capture(), env: { LOG_LEVEL: 'silent' } });
  await silent.app.inject({ method: 'GET', url: '/health' });
  await silent.app.inject({ method: 'GET', url: '/widget.js' });
  await silent.app.inject({ method: 'OPTIONS', url: '/v1/widget/chat', headers: { origin: 'https://a.example', 'access-control-request-method': 'POST' } });
  await silent.app.inject({ method: 'GET', url: '/nowhere' });
  t.same(lines, [], 'nothing at all is logged');

  const info = await buildTestApp(t, { logStream: capture() });
  await info.app.inject({ method: 'GET', url: '/health' });
  await info.app.inject({ method: 'GET', url: '/widget.js' });
  t.same(lines, [], 'probes and the widget script leave no request lines');
  await info.app.inject({ method: 'GET', url: '/openapi.json' });
  t.ok(lines.some((line) => line.includes('"url":"/openapi.json"')), 'other requests are logged');
});
