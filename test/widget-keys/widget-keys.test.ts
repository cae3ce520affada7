import { eq } from 'drizzle-orm';
import t from 'tap';
import { apiKeys } from '../../src/db/schema.js';
import { databaseKinds } from '../helpers/app.js';
import { bearer, buildOwnerTestApp, configureOwner, createWidgetKey, signUpOwner } from '../helpers/owner.js';

for (const kind of databaseKinds()) {
  t.test(`widget key lifecycle on ${kind}`, async (t) => {
    const { app, config, database } = await buildOwnerTestApp(t, { kind, env: { PUBLIC_URL: 'https://chat.example.com' } });
    const owner = await signUpOwner(app);
    const auth = bearer(owner.token);
    const call = (method: 'GET' | 'POST' | 'DELETE', url: string) => app.inject({ method, url, headers: auth });

    t.equal((await app.inject({ method: 'POST', url: '/v1/api-key' })).statusCode, 401, 'needs a token');
    const required = await call('POST', '/v1/api-key');
    t.equal(required.statusCode, 409);
    t.equal(required.json().code, 'CONFIGURATION_REQUIRED');
    t.equal((await call('GET', '/v1/api-key')).statusCode, 404);
    t.equal((await call('DELETE', '/v1/api-key')).statusCode, 404);
    t.equal((await call('POST', '/v1/api-key/rotate')).json().code, 'CONFIGURATION_REQUIRED');

    await configureOwner(app, owner.token);
    t.equal((await call('POST', '/v1/api-key/rotate')).statusCode, 404, 'nothing to rotate yet');

    // Two concurrent creates: exactly one wins.
    const [a, b] = await Promise.all([call('POST', '/v1/api-key'), call('POST', '/v1/api-key')]);
    t.same([a.statusCode, b.statusCode].sort(), [201, 409]);
    const created = (a.statusCode === 201 ? a : b).json();
    t.match(created, { key: /^pk_[A-Za-z0-9_-]{21}$/, status: 'ACTIVE', createdAt: String, lastUsedAt: null });
    t.equal(created.snippet, `<script src="https://chat.example.com/widget.js" data-key="${created.key}" async></script>`);
    t.equal(config.PUBLIC_URL, 'https://chat.example.com');

    const exists = await call('POST', '/v1/api-key');
    t.equal(exists.statusCode, 409);
    t.equal(exists.json().code, 'API_KEY_EXISTS');
    t.same((await call('GET', '/v1/api-key')).json(), created);

    const rotated = (await call('POST', '/v1/api-key/rotate')).json();
    t.not(rotated.key, created.key);
    t.equal(rotated.status, 'ACTIVE');
    t.equal(rotated.snippet, `<script src="https://chat.example.com/widget.js" data-key="${rotated.key}" async></script>`);
    t.equal(await app.widgetKeys.resolve(created.key), null);

    const revoked = await call('DELETE', '/v1/api-key');
    t.equal(revoked.statusCode, 200);
    t.match(revoked.json(), { key: rotated.key, status: 'REVOKED' });
    t.equal((await call('DELETE', '/v1/api-key')).json().status, 'REVOKED', 'revoking again is harmless');
    t.equal(await app.widgetKeys.resolve(rotated.key), null);
    const rotateRevoked = await call('POST', '/v1/api-key/rotate');
    t.equal(rotateRevoked.statusCode, 409, 'a revoked key cannot be rotated back to life');
    t.equal(await app.widgetKeys.resolve(rotated.key), null);

    // POST after a revoke issues a fresh key in place of the revoked one (one key per configuration).
    const fresh = await createWidgetKey(app, owner.token);
    t.not(fresh.key, rotated.key);
    t.equal(fresh.status, 'ACTIVE');
    t.ok(await app.widgetKeys.resolve(fresh.key));
    t.equal(await app.widgetKeys.resolve(rotated.key), null, 'the revoked value stays dead');
    const rows = await database.db.select().from(apiKeys);
    t.equal(rows.length, 1);
    t.equal(rows[0]?.key, fresh.key);

    // lastUsedAt is written by the public side; the admin view reports it.
    const usedAt = new Date('2026-02-03T04:05:06.000Z');
    await database.db.update(apiKeys).set({ lastUsedAt: usedAt }).where(eq(apiKeys.key, fresh.key));
    t.equal((await call('GET', '/v1/api-key')).json().lastUsedAt, usedAt.toISOString());
  });
}
