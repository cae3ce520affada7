import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import t from 'tap';
import { hashEmail, INVALID_CREDENTIALS_DETAIL, LOGIN_FAILURES_BEFORE_LOCK, lockDurationMs } from '../../src/accounts/accounts-service.js';
import { apiKeys, configurations, loginThrottles, sessions, users } from '../../src/db/schema.js';
import { databaseKinds } from '../helpers/app.js';
import { bearer, buildOwnerTestApp, createConfiguredOwner, createTestPasswordHasher, signUpOwner } from '../helpers/owner.js';

const login = (app: Awaited<ReturnType<typeof buildOwnerTestApp>>['app'], email: string, password: string) =>
  app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });

t.test('lock durations grow from 30 s and stop at 15 min', async (t) => {
  t.equal(lockDurationMs(LOGIN_FAILURES_BEFORE_LOCK - 1), 0);
  t.equal(lockDurationMs(LOGIN_FAILURES_BEFORE_LOCK), 30_000);
  t.equal(lockDurationMs(LOGIN_FAILURES_BEFORE_LOCK + 1), 60_000);
  t.equal(lockDurationMs(LOGIN_FAILURES_BEFORE_LOCK + 5), 15 * 60_000);
  t.equal(lockDurationMs(10_000), 15 * 60_000);
});

for (const kind of databaseKinds()) {
  t.test(`signup on ${kind}`, async (t) => {
    const { app, database } = await buildOwnerTestApp(t, { kind });
    const response = await app.inject({
      method: 'POST',
      url: '/v1/auth/signup',
      headers: { 'user-agent': 'tap-test/1.0' },
      payload: { email: ' New.Owner@Example.COM ', password: 'ten chars!' },
    });
    t.equal(response.statusCode, 201, response.body);
    const body = response.json();
    t.match(body, { user: { id: String, email: 'new.owner@example.com', createdAt: String }, token: /^fc_[A-Za-z0-9_-]{43}$/, expiresAt: String });
    const ttlHours = (Date.parse(body.expiresAt) - Date.now()) / 3_600_000;
    t.ok(ttlHours > 24 * 30 - 1 && ttlHours <= 24 * 30, 'expires after SESSION_TTL_HOURS');

    const [session] = await database.db.select().from(sessions).where(eq(sessions.userId, body.user.id));
    t.equal(session?.tokenHash, createHash('sha256').update(body.token).digest('hex'), 'only the SHA-256 of the token is stored');
    t.equal(session?.userAgent, 'tap-test/1.0');
    t.ok(session?.ip, 'the client address is recorded');

    const taken = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: { email: 'new.owner@EXAMPLE.com', password: 'another password' } });
    t.equal(taken.statusCode, 409);
    t.equal(taken.json().code, 'EMAIL_TAKEN');

    for (const payload of [
      { email: 'not-an-email', password: 'long enough password' },
      { email: 'a@example.com', password: 'short' },
      { email: 'a@example.com', password: 'x'.repeat(1025) },
      { email: 'a@example.com' },
      { email: 'a@example.com', password: 'long enough password', admin: true },
    ]) {
      const bad = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload });
      t.equal(bad.statusCode, 400, JSON.stringify(payload).slice(0, 60));
      t.equal(bad.json().code, 'VALIDATION_FAILED');
      t.equal(bad.headers['content-type'], 'application/problem+json; charset=utf-8');
    }

    // 1024 characters are accepted and all of them count: no truncation.
    const long = 'p'.repeat(1023) + 'q';
    const owner = await signUpOwner(app, { password: long });
    t.equal((await login(app, owner.email, long)).statusCode, 200);
    t.equal((await login(app, owner.email, long.slice(0, 1023))).statusCode, 401);
    t.equal((await login(app, owner.email, 'p'.repeat(1024))).statusCode, 401);
  });

  t.test(`login, identical failures and throttling on ${kind}`, async (t) => {
    const passwordHasher = createTestPasswordHasher();
    const { app, database } = await buildOwnerTestApp(t, { kind, passwordHasher });
    const owner = await signUpOwner(app);

    const ok = await login(app, owner.email.toUpperCase(), owner.password);
    t.equal(ok.statusCode, 200);
    t.match(ok.json(), { user: { id: owner.userId, email: owner.email }, token: String, expiresAt: String });
    t.not(ok.json().token, owner.token, 'each login opens a new session');

    const before = passwordHasher.hashesComputed();
    const unknown = await login(app, 'nobody@example.com', owner.password);
    t.equal(passwordHasher.hashesComputed(), before + 1, 'an unknown e-mail costs one hash too');
    const wrong = await login(app, owner.email, 'wrong password!');
    t.equal(passwordHasher.hashesComputed(), before + 2);
    t.equal(unknown.statusCode, 401);
    t.equal(wrong.statusCode, 401);
    t.equal(unknown.body, wrong.body, 'byte-identical bodies for unknown e-mail and wrong password');
    t.same(Object.keys(unknown.headers).sort(), Object.keys(wrong.headers).sort(), 'the same headers');
    t.match(unknown.json(), { code: 'INVALID_CREDENTIALS', detail: INVALID_CREDENTIALS_DETAIL });
    // Timing is not asserted (wall-clock is flaky in CI); the counter above proves both paths run one scrypt at the same cost.

    // Success resets the streak: a failure before the lock, then a success, then more failures still answer 401.
    for (let i = 0; i < LOGIN_FAILURES_BEFORE_LOCK - 2; i++) t.equal((await login(app, owner.email, 'wrong password!')).statusCode, 401);
    t.equal((await login(app, owner.email, owner.password)).statusCode, 200);
    const [cleared] = await database.db.select().from(loginThrottles).where(eq(loginThrottles.emailHash, hashEmail(owner.email)));
    t.equal(cleared, undefined, 'a successful login clears the failures');

    for (const email of [owner.email, 'ghost@example.com']) {
      for (let i = 0; i < LOGIN_FAILURES_BEFORE_LOCK; i++) {
        t.equal((await login(app, email, 'wrong password!')).statusCode, 401, `failure ${i + 1} for ${email}`);
      }
      const hashes = passwordHasher.hashesComputed();
      const throttled = await login(app, email, email === owner.email ? owner.password : 'wrong password!');
      t.equal(throttled.statusCode, 429, `locked: ${email}`);
      t.equal(throttled.json().code, 'LOGIN_THROTTLED');
      t.equal(throttled.headers['retry-after'], '30');
      t.equal(passwordHasher.hashesComputed(), hashes, 'a locked login costs no hash');
    }

    // Once the lock expires the right password gets in and resets the streak.
    await database.db.update(loginThrottles).set({ lockedUntil: new Date(Date.now() - 1000) }).where(eq(loginThrottles.emailHash, hashEmail(owner.email)));
    t.equal((await login(app, owner.email, owner.password)).statusCode, 200);
    // A failure after an expired lock (without a success) doubles it.
    await database.db.update(loginThrottles).set({ lockedUntil: new Date(Date.now() - 1000) }).where(eq(loginThrottles.emailHash, hashEmail('ghost@example.com')));
    t.equal((await login(app, 'ghost@example.com', 'wrong password!')).statusCode, 401);
    const doubled = await login(app, 'ghost@example.com', 'wrong password!');
    t.equal(doubled.statusCode, 429);
    t.equal(doubled.headers['retry-after'], '60');

    const rows = await database.db.select().from(loginThrottles);
    t.ok(rows.every((row) => /^[0-9a-f]{64}$/.test(row.emailHash)), 'throttles are keyed by e-mail hash, never the address');
  });

  t.test(`sessions expire, are revoked on logout, and need a well-formed token on ${kind}`, async (t) => {
    const { app, database } = await buildOwnerTestApp(t, { kind });
    const owner = await signUpOwner(app);
    const second = await signUpOwner(app);
    t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(owner.token) })).statusCode, 200);

    await database.db.update(sessions).set({ expiresAt: sql`now() - interval '1 minute'` }).where(eq(sessions.userId, owner.userId));
    const expired = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(owner.token) });
    t.equal(expired.statusCode, 401);
    t.equal(expired.json().code, 'UNAUTHENTICATED');

    t.equal((await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(second.token) })).statusCode, 204);
    t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(second.token) })).statusCode, 401);
    t.equal((await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(second.token) })).statusCode, 401, 'a revoked token cannot log out again');

    for (const authorization of [undefined, 'Bearer', 'Basic abc', `Bearer ${second.token}x`, 'Bearer fc_' + 'a'.repeat(43)]) {
      const response = await app.inject({ method: 'GET', url: '/v1/me', headers: authorization ? { authorization } : {} });
      t.equal(response.statusCode, 401, String(authorization).slice(0, 20));
    }
  });

  t.test(`deleting the account removes everything it owns on ${kind}`, async (t) => {
    const { app, database } = await buildOwnerTestApp(t, { kind });
    const owner = await createConfiguredOwner(app);
    const other = await createConfiguredOwner(app);
    t.ok(await app.widgetKeys.resolve(owner.key), 'cached before the delete');

    const me = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(owner.token) });
    t.same(Object.keys(me.json()).sort(), ['createdAt', 'email', 'id']);

    const deleted = await app.inject({ method: 'DELETE', url: '/v1/me', headers: bearer(owner.token) });
    t.equal(deleted.statusCode, 204);
    t.equal(deleted.body, '');
    t.equal(await app.widgetKeys.resolve(owner.key), null, 'the widget stops at once');
    t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(owner.token) })).statusCode, 401);
    t.same(await database.db.select().from(users).where(eq(users.id, owner.userId)), []);
    t.same(await database.db.select().from(sessions).where(eq(sessions.userId, owner.userId)), []);
    t.same(await database.db.select().from(configurations).where(eq(configurations.userId, owner.userId)), []);
    t.same(await database.db.select().from(apiKeys).where(eq(apiKeys.key, owner.key)), []);
    t.ok(await app.widgetKeys.resolve(other.key), "another owner's widget keeps working");

    const again = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: { email: owner.email, password: 'a brand new password' } });
    t.equal(again.statusCode, 201, 'the e-mail is free again');
  });
}
