import { eq } from 'drizzle-orm';
import t from 'tap';
import { createPasswordHasher, parseStoredHash, PRODUCTION_SCRYPT_PARAMS } from '../../src/accounts/password-hashing.js';
import { users } from '../../src/db/schema.js';
import { buildTestApp, databaseKinds } from '../helpers/app.js';
import { createTestPasswordHasher, TEST_SCRYPT_PARAMS } from '../helpers/owner.js';

const PRODUCTION_PREFIX = 'scrypt$N=131072,r=8,p=1$';

t.test('production parameters are the default and meet OWASP (N=2^17, r=8, p=1)', async (t) => {
  t.same(PRODUCTION_SCRYPT_PARAMS, { N: 131072, r: 8, p: 1 });
  const hasher = createPasswordHasher();
  t.same(hasher.params, PRODUCTION_SCRYPT_PARAMS);
  const stored = await hasher.hash('correct horse battery staple'); // one real hash (~0.3 s, 128 MiB)
  t.ok(stored.startsWith(PRODUCTION_PREFIX), stored.slice(0, 30));
  const parsed = parseStoredHash(stored)!;
  t.equal(parsed.salt.length, 16, '16-byte salt');
  t.equal(parsed.hash.length, 32, '32-byte key');
});

t.test('cheap hashes verify, reject wrong passwords and unreadable strings', async (t) => {
  const hasher = createTestPasswordHasher();
  const stored = await hasher.hash('pässwörd with ünicode');
  t.ok(stored.startsWith(`scrypt$N=${TEST_SCRYPT_PARAMS.N},r=8,p=1$`));
  t.same(await hasher.verify('pässwörd with ünicode', stored), { ok: true, needsRehash: false });
  t.same(await hasher.verify('pässwörd with ünicodE', stored), { ok: false, needsRehash: false });
  t.not(await hasher.hash('same'), await hasher.hash('same'), 'a fresh salt each time');
  for (const bad of ['', 'plain', 'scrypt$N=1048577,r=8,p=1$AAAA$AAAA', `scrypt$N=${2 ** 24},r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`]) {
    const before = hasher.hashesComputed();
    t.same(await hasher.verify('anything', bad), { ok: false, needsRehash: false }, `rejects ${bad.slice(0, 20) || 'empty'}`);
    t.equal(hasher.hashesComputed(), before + 1, 'and still costs one hash at the current cost');
  }

  const stronger = createPasswordHasher({ params: { N: 2 ** 11, r: 8, p: 1 } });
  t.same(await stronger.verify('pässwörd with ünicode', stored), { ok: true, needsRehash: true }, 'weaker stored cost asks for a rehash');
});

t.test('a burst of hashes queues behind the concurrency limit and every one completes', async (t) => {
  const hasher = createPasswordHasher({ params: { N: 2 ** 12, r: 8, p: 1 }, concurrency: 2 });
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => hasher.hash(`password ${i}`)));
  t.equal(new Set(results).size, 8, 'every queued hash completes');
  t.equal(hasher.hashesComputed(), 8);
});

for (const kind of databaseKinds()) {
  t.test(`the app stores production-cost hashes and upgrades weaker ones on login, on ${kind}`, async (t) => {
    const { app, database } = await buildTestApp(t, { kind }); // the default hasher: production parameters
    const signup = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: { email: 'real@example.com', password: 'production cost!' } });
    t.equal(signup.statusCode, 201);
    const [created] = await database.db.select().from(users).where(eq(users.email, 'real@example.com'));
    t.ok(created?.password.startsWith(PRODUCTION_PREFIX), 'signup stores N=2^17');

    const weak = createPasswordHasher({ params: { N: 2 ** 14, r: 8, p: 1 } });
    await database.db.insert(users).values({ email: 'legacy@example.com', password: await weak.hash('legacy password') });
    const [before] = await database.db.select().from(users).where(eq(users.email, 'legacy@example.com'));
    t.ok(before?.password.startsWith('scrypt$N=16384,'));

    const login = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'legacy@example.com', password: 'legacy password' } });
    t.equal(login.statusCode, 200);
    const [after] = await database.db.select().from(users).where(eq(users.email, 'legacy@example.com'));
    t.ok(after?.password.startsWith(PRODUCTION_PREFIX), `rehashed: ${after?.password.slice(0, 30)}`);
    t.not(after?.password, before?.password);

    const again = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'legacy@example.com', password: 'legacy password' } });
    t.equal(again.statusCode, 200, 'the upgraded hash verifies');
  });
}
