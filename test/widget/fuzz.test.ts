import fc from 'fast-check';
import t from 'tap';
import { buildTestApp } from '../helpers/app.js';
import { createWidgetOwner } from '../helpers/widget-fixtures.js';
import { startFakeOpenAi } from '../support/fake-openai.js';

t.test('public widget routes never answer 5xx, whatever the input', async (t) => {
  const fake = await startFakeOpenAi({ deltas: 1 });
  t.teardown(() => fake.close());
  const testApp = await buildTestApp(t, {
    env: { OPENAI_BASE_URL: `${fake.url}/v1`, RATE_LIMIT_VISITOR_PER_MINUTE: '100000', RATE_LIMIT_KEY_PER_MINUTE: '100000' },
  });
  const { app } = testApp;
  const open = await createWidgetOwner(testApp);
  const locked = await createWidgetOwner(testApp, { allowedOrigins: ['https://shop.example.com'] });

  const anyText = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme', maxLength: 40 }));
  const key = fc.oneof(fc.constant(open.key), fc.constant(locked.key), anyText, fc.constant('pk_'), fc.constant(`${open.key}x`));
  const jsonValue = fc.oneof(fc.jsonValue(), fc.constant(null));
  const chatBody = fc.oneof(
    fc.record(
      {
        message: fc.oneof(anyText, jsonValue, fc.constant('\u0000 hi'), fc.constant(' '.repeat(5))),
        conversationId: fc.oneof(fc.uuid(), anyText, jsonValue),
        visitorId: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/), anyText, jsonValue),
      },
      { requiredKeys: [] },
    ),
    jsonValue,
  );
  const origin = fc.option(fc.oneof(fc.constant('https://shop.example.com'), fc.webUrl(), anyText.filter((value) => /^[\x21-\x7e]*$/.test(value))), { nil: undefined });
  const contentType = fc.constantFrom('application/json', 'text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'application/octet-stream', undefined);
  const headerSafe = (value: string) => /^[\x20-\x7e]*$/.test(value);

  await fc.assert(
    fc.asyncProperty(
      key,
      chatBody,
      origin,
      contentType,
      fc.boolean(),
      fc.boolean(),
      fc.option(anyText, { nil: undefined }),
      async (widgetKey, body, requestOrigin, type, keyInHeader, stream, rawBody) => {
        const headers: Record<string, string> = {};
        if (type) headers['content-type'] = type;
        if (requestOrigin) headers.origin = requestOrigin;
        if (stream) headers.accept = 'text/event-stream';
        if (keyInHeader && headerSafe(widgetKey)) headers['x-widget-key'] = widgetKey;
        const response = await app.inject({
          method: 'POST',
          url: `/v1/widget/chat${keyInHeader ? '' : `?key=${encodeURIComponent(widgetKey)}`}`,
          headers,
          payload: rawBody ?? JSON.stringify(body),
        });
        if (response.statusCode >= 500) throw new Error(`${response.statusCode} ${response.body}`);
      },
    ),
    { numRuns: 150 },
  );

  await fc.assert(
    fc.asyncProperty(key, anyText, anyText, fc.string(), async (widgetKey, id, visitorId, extra) => {
      for (const url of [
        `/v1/widget/conversations/${encodeURIComponent(id)}?visitorId=${encodeURIComponent(visitorId)}&key=${encodeURIComponent(widgetKey)}`,
        `/v1/widget/config?key=${encodeURIComponent(widgetKey)}&${encodeURIComponent(extra)}=${encodeURIComponent(id)}`,
      ]) {
        const response = await app.inject({ method: 'GET', url });
        if (response.statusCode >= 500) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
      }
      const preflight = await app.inject({ method: 'OPTIONS', url: `/v1/widget/chat?key=${encodeURIComponent(widgetKey)}`, headers: { origin: 'https://x.example' } });
      if (preflight.statusCode >= 500) throw new Error(`preflight ${preflight.statusCode}`);
    }),
    { numRuns: 150 },
  );
  t.pass('no 5xx');
});
