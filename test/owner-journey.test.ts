import { sql } from 'drizzle-orm';
import t from 'tap';
import type { Database } from '../src/db/client.js';
import { databaseKinds } from './helpers/app.js';
import { bearer, buildOwnerTestApp, configureOwner, createConfiguredOwner, fakeOpenAiApiKey, signUpOwner } from './helpers/owner.js';

/** Rows of a raw query on either driver (PGlite returns {rows}, postgres.js an array). */
const rowsOf = <T>(result: unknown): T[] => (Array.isArray(result) ? result : (result as { rows: T[] }).rows);

/** Every value of every text-like column in the database, as text. */
const everyStoredText = async (db: Database): Promise<{ columns: number; values: string[] }> => {
  const columns = rowsOf<{ table_schema: string; table_name: string; column_name: string }>(
    await db.execute(sql`
      select table_schema, table_name, column_name from information_schema.columns
      where table_schema not in ('pg_catalog', 'information_schema')
        and (data_type in ('text', 'character varying', 'character', 'json', 'jsonb') or (data_type = 'ARRAY' and udt_name in ('_text', '_varchar')))`),
  );
  const values: string[] = [];
  for (const { table_schema, table_name, column_name } of columns) {
    const rows = rowsOf<{ value: string | null }>(
      await db.execute(sql`select ${sql.identifier(column_name)}::text as value from ${sql.identifier(table_schema)}.${sql.identifier(table_name)}`),
    );
    for (const row of rows) if (row.value !== null) values.push(row.value);
  }
  return { columns: columns.length, values };
};

for (const kind of databaseKinds()) {
  t.test(`the whole owner journey on ${kind}`, async (t) => {
    const { app, database, config } = await buildOwnerTestApp(t, { kind });
    const password = 'a long and secret passphrase';
    const email = 'Journey.Owner@Example.com';

    const signup = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: { email: `  ${email} `, password } });
    t.equal(signup.statusCode, 201, signup.body);
    const { token, user } = signup.json();
    t.equal(user.email, 'journey.owner@example.com', 'e-mail trimmed and lower-cased');
    const auth = bearer(token);

    const noConfig = await app.inject({ method: 'POST', url: '/v1/api-key', headers: auth });
    t.equal(noConfig.statusCode, 409);
    t.equal(noConfig.json().code, 'CONFIGURATION_REQUIRED');
    t.match(noConfig.json().detail, /PUT \/v1\/configuration/);

    const openAiApiKey = fakeOpenAiApiKey();
    const created = await app.inject({
      method: 'PUT',
      url: '/v1/configuration',
      headers: auth,
      payload: { faqText: 'Q: Hours?\nA: 9 to 5.', widgetColor: '#0A7D5A', openAiApiKey, allowedOrigins: ['https://Shop.Example.com:443'] },
    });
    t.equal(created.statusCode, 201, created.body);
    t.match(created.json(), { widgetColor: '#0a7d5a', openAiApiKey: `sk-…${openAiApiKey.slice(-4)}`, allowedOrigins: ['https://shop.example.com'] });

    const createdKey = await app.inject({ method: 'POST', url: '/v1/api-key', headers: auth });
    t.equal(createdKey.statusCode, 201, createdKey.body);
    const first = createdKey.json();
    t.match(first.key, /^pk_[A-Za-z0-9_-]{21}$/);
    t.equal(first.status, 'ACTIVE');
    t.equal(first.snippet, `<script src="${config.PUBLIC_URL}/widget.js" data-key="${first.key}" async></script>`);
    t.ok(await app.widgetKeys.resolve(first.key), 'the new key resolves');

    const read = await app.inject({ method: 'GET', url: '/v1/configuration', headers: auth });
    t.equal(read.statusCode, 200);
    t.equal(read.json().openAiApiKey, `sk-…${openAiApiKey.slice(-4)}`, 'the OpenAI key is masked');
    t.notMatch(read.body, openAiApiKey, 'the full key never comes back');

    const rotated = await app.inject({ method: 'POST', url: '/v1/api-key/rotate', headers: auth });
    t.equal(rotated.statusCode, 200, rotated.body);
    const second = rotated.json();
    t.not(second.key, first.key);
    t.equal(await app.widgetKeys.resolve(first.key), null, 'the old key stops at once');
    t.ok(await app.widgetKeys.resolve(second.key), 'the new key resolves');

    const revoked = await app.inject({ method: 'DELETE', url: '/v1/api-key', headers: auth });
    t.equal(revoked.statusCode, 200);
    t.match(revoked.json(), { key: second.key, status: 'REVOKED' });
    t.equal(await app.widgetKeys.resolve(second.key), null, 'a revoked key stops at once');

    const login = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
    t.equal(login.statusCode, 200);
    const secondToken: string = login.json().token;

    const logout = await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: auth });
    t.equal(logout.statusCode, 204);
    const refused = await app.inject({ method: 'GET', url: '/v1/me', headers: auth });
    t.equal(refused.statusCode, 401);
    t.equal(refused.json().code, 'UNAUTHENTICATED');
    const stillIn = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(secondToken) });
    t.equal(stillIn.statusCode, 200, 'logging out ends only that session');

    const { columns, values: stored } = await everyStoredText(database.db);
    t.ok(columns >= 10, `scans all ${columns} text columns`);
    for (const [name, secret] of Object.entries({ password, token, secondToken, openAiApiKey })) {
      t.notOk(
        stored.some((value) => value.includes(secret)),
        `no column holds the ${name}`,
      );
    }
    t.ok(stored.some((value) => value.startsWith('scrypt$N=')), 'the password is stored as a scrypt string');
  });

  t.test(`tenant isolation on ${kind}`, async (t) => {
    const { app } = await buildOwnerTestApp(t, { kind });
    const alice = await createConfiguredOwner(app, { faqText: 'Alice FAQ', widgetColor: '#111111' });
    const bob = await signUpOwner(app);
    const asBob = bearer(bob.token);
    const aliceBefore = (await app.inject({ method: 'GET', url: '/v1/configuration', headers: bearer(alice.token) })).json();

    // Bob has nothing yet: every route answers about Bob's (absent) data, never Alice's.
    t.equal((await app.inject({ method: 'GET', url: '/v1/configuration', headers: asBob })).statusCode, 404);
    t.equal((await app.inject({ method: 'PATCH', url: '/v1/configuration', headers: asBob, payload: { faqText: 'pwned' } })).statusCode, 404);
    t.equal((await app.inject({ method: 'GET', url: '/v1/api-key', headers: asBob })).statusCode, 404);
    t.equal((await app.inject({ method: 'POST', url: '/v1/api-key/rotate', headers: asBob })).statusCode, 409);
    t.equal((await app.inject({ method: 'DELETE', url: '/v1/api-key', headers: asBob })).statusCode, 404);
    t.equal((await app.inject({ method: 'POST', url: '/v1/api-key', headers: asBob })).statusCode, 409);

    // Bob's writes touch only Bob's rows.
    await configureOwner(app, bob.token, { faqText: 'Bob FAQ', widgetColor: '#222222' });
    t.equal((await app.inject({ method: 'PATCH', url: '/v1/configuration', headers: asBob, payload: { title: 'Bob' } })).statusCode, 200);
    const bobKey = await app.inject({ method: 'POST', url: '/v1/api-key', headers: asBob });
    t.equal(bobKey.statusCode, 201);
    t.not(bobKey.json().key, alice.key);
    t.equal((await app.inject({ method: 'POST', url: '/v1/api-key/rotate', headers: asBob })).statusCode, 200);
    t.equal((await app.inject({ method: 'DELETE', url: '/v1/api-key', headers: asBob })).statusCode, 200);
    const bobMe = await app.inject({ method: 'GET', url: '/v1/me', headers: asBob });
    t.equal(bobMe.json().id, bob.userId);
    t.equal((await app.inject({ method: 'DELETE', url: '/v1/me', headers: asBob })).statusCode, 204);

    const aliceAfter = await app.inject({ method: 'GET', url: '/v1/configuration', headers: bearer(alice.token) });
    t.same(aliceAfter.json(), aliceBefore, "Alice's configuration is untouched");
    const aliceKey = await app.inject({ method: 'GET', url: '/v1/api-key', headers: bearer(alice.token) });
    t.match(aliceKey.json(), { key: alice.key, status: 'ACTIVE' }, "Alice's key is untouched");
    t.ok(await app.widgetKeys.resolve(alice.key));
    t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(alice.token) })).json().id, alice.userId);
  });
}

t.test('every owner route is documented in OpenAPI, admin routes with bearerAuth', async (t) => {
  const { app } = await buildOwnerTestApp(t);
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
  const routes: Array<[string, string, boolean]> = [
    ['/v1/auth/signup', 'post', false],
    ['/v1/auth/login', 'post', false],
    ['/v1/auth/logout', 'post', true],
    ['/v1/me', 'get', true],
    ['/v1/me', 'delete', true],
    ['/v1/configuration', 'get', true],
    ['/v1/configuration', 'put', true],
    ['/v1/configuration', 'patch', true],
    ['/v1/api-key', 'post', true],
    ['/v1/api-key', 'get', true],
    ['/v1/api-key/rotate', 'post', true],
    ['/v1/api-key', 'delete', true],
  ];
  for (const [path, method, admin] of routes) {
    const operation = document.paths?.[path]?.[method];
    t.ok(operation, `${method.toUpperCase()} ${path} is documented`);
    t.ok(operation?.tags?.length && operation?.summary, `${method.toUpperCase()} ${path} has tags and a summary`);
    if (admin) t.same(operation?.security, [{ bearerAuth: [] }], `${method.toUpperCase()} ${path} needs a bearer token`);
    const problems = Object.entries(operation?.responses ?? {}).filter(([status]) => status.startsWith('4'));
    t.ok(problems.length > 0, `${method.toUpperCase()} ${path} documents its 4xx`);
  }
  t.ok(document.components?.schemas?.Configuration, 'named schemas are published');
});
