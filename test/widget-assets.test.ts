import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import t from 'tap';
import { acceptsGzip } from '../src/widget-assets/widget-assets-routes.js';
import { buildTestApp } from './helpers/app.js';

const built = readFileSync(new URL('../widget/dist/widget.js', import.meta.url));

t.test('GET /widget.js serves the built script, cacheable and revalidated by ETag', async (t) => {
  const { app } = await buildTestApp(t);

  const plain = await app.inject({ method: 'GET', url: '/widget.js' });
  t.equal(plain.statusCode, 200);
  t.equal(plain.headers['content-type'], 'application/javascript; charset=utf-8');
  t.equal(plain.headers['cache-control'], 'public, max-age=300, stale-while-revalidate=86400');
  t.equal(plain.headers['cross-origin-resource-policy'], 'cross-origin');
  t.equal(plain.headers.vary, 'Accept-Encoding');
  t.notOk(plain.headers['content-encoding'], 'identity when gzip is not accepted');
  t.ok(plain.rawPayload.equals(built), 'exactly the built file');
  const etag = plain.headers.etag as string;
  t.match(etag, /^"[A-Za-z0-9_-]{20,}"$/, 'a strong ETag');

  const gzipped = await app.inject({ method: 'GET', url: '/widget.js', headers: { 'accept-encoding': 'br, gzip;q=0.8' } });
  t.equal(gzipped.statusCode, 200);
  t.equal(gzipped.headers['content-encoding'], 'gzip');
  t.equal(gzipped.headers['content-type'], 'application/javascript; charset=utf-8');
  t.ok(gunzipSync(gzipped.rawPayload).equals(built), 'the precompressed twin of the same script');
  t.ok(gzipped.rawPayload.length < built.length);
  t.not(gzipped.headers.etag, etag, 'each content coding has its own strong ETag');

  const refused = await app.inject({ method: 'GET', url: '/widget.js', headers: { 'accept-encoding': 'gzip;q=0' } });
  t.notOk(refused.headers['content-encoding'], 'q=0 refuses gzip');

  for (const tag of [etag, gzipped.headers.etag as string, `W/${etag}`, `"other", ${etag}`, '*']) {
    const revalidated = await app.inject({ method: 'GET', url: '/widget.js', headers: { 'if-none-match': tag, 'accept-encoding': 'gzip' } });
    t.equal(revalidated.statusCode, 304, `304 for If-None-Match: ${tag}`);
    t.equal(revalidated.body, '');
    t.ok(revalidated.headers.etag);
    t.equal(revalidated.headers['cache-control'], 'public, max-age=300, stale-while-revalidate=86400');
  }
  const changed = await app.inject({ method: 'GET', url: '/widget.js', headers: { 'if-none-match': '"stale"' } });
  t.equal(changed.statusCode, 200, 'a stale tag gets the new script');

  const head = await app.inject({ method: 'HEAD', url: '/widget.js' });
  t.equal(head.statusCode, 200);
  t.equal(head.headers.etag, etag);
});

t.test('acceptsGzip reads Accept-Encoding with q-values', async (t) => {
  t.ok(acceptsGzip('gzip'));
  t.ok(acceptsGzip('deflate, GZIP'));
  t.ok(acceptsGzip('*'));
  t.ok(acceptsGzip('gzip; q=0.5'));
  t.notOk(acceptsGzip(undefined));
  t.notOk(acceptsGzip(''));
  t.notOk(acceptsGzip('br, deflate'));
  t.notOk(acceptsGzip('gzip;q=0'));
  t.notOk(acceptsGzip('gzip;q=0.000'));
});

t.test('GET /demo embeds the widget as an owner would, and validates the key', async (t) => {
  const { app } = await buildTestApp(t, { env: { PUBLIC_URL: 'https://chat.example.com' } });
  const key = 'pk_AbCdEf12345_-x';

  const page = await app.inject({ method: 'GET', url: `/demo?key=${key}` });
  t.equal(page.statusCode, 200);
  t.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  t.ok(page.body.includes(`<script src="https://chat.example.com/widget.js" data-key="${key}" async></script>`), 'the real snippet');
  t.ok(page.body.includes('&lt;script src=&quot;https://chat.example.com/widget.js&quot;'), 'and the snippet shown as text');
  t.match(page.headers['content-security-policy'], /script-src https:\/\/chat\.example\.com;/);

  const withoutKey = await app.inject({ method: 'GET', url: '/demo' });
  t.equal(withoutKey.statusCode, 200);
  t.match(withoutKey.body, /POST \/v1\/api-key/, 'explains how to get a key');
  t.notMatch(withoutKey.body, /<script/, 'no widget without a key');

  for (const bad of ['"><script>alert(1)</script>', 'pk_short', 'sk_AbCdEf1234567', `pk_${'a'.repeat(65)}`, 'pk_abc<def>ghijk']) {
    const rejected = await app.inject({ method: 'GET', url: `/demo?key=${encodeURIComponent(bad)}` });
    t.equal(rejected.statusCode, 400, `rejects ${bad}`);
    t.equal(rejected.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.equal(rejected.json().code, 'VALIDATION_FAILED');
    t.notMatch(rejected.body, /<script>/);
  }
});

t.test('both routes are documented in the OpenAPI document', async (t) => {
  const { app } = await buildTestApp(t);
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
  t.ok(document.paths['/widget.js']?.get);
  t.ok(document.paths['/demo']?.get);
});
