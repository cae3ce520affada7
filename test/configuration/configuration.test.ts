import { eq } from 'drizzle-orm';
import t from 'tap';
import { CONFIGURATION_DEFAULTS, CONFIGURATION_LIMITS, SUPPORTED_MODELS } from '../../src/configuration/configuration-schemas.js';
import { configurations } from '../../src/db/schema.js';
import { createSecretBox } from '../../src/secrets/secret-box.js';
import { databaseKinds } from '../helpers/app.js';
import { bearer, buildOwnerTestApp, createConfiguredOwner, fakeOpenAiApiKey, signUpOwner } from '../helpers/owner.js';

for (const kind of databaseKinds()) {
  t.test(`create, read, replace and patch on ${kind}`, async (t) => {
    const { app, database, config } = await buildOwnerTestApp(t, { kind });
    const owner = await signUpOwner(app);
    const auth = bearer(owner.token);
    const put = (payload: object) => app.inject({ method: 'PUT', url: '/v1/configuration', headers: auth, payload });
    const patch = (payload: object) => app.inject({ method: 'PATCH', url: '/v1/configuration', headers: auth, payload });

    t.equal((await app.inject({ method: 'GET', url: '/v1/configuration' })).statusCode, 401, 'needs a token');
    const none = await app.inject({ method: 'GET', url: '/v1/configuration', headers: auth });
    t.equal(none.statusCode, 404);
    t.equal(none.json().code, 'NOT_FOUND');
    t.equal((await patch({ title: 'x' })).statusCode, 404, 'PATCH before PUT');

    const keyless = await put({ faqText: 'FAQ' });
    t.equal(keyless.statusCode, 400);
    t.match(keyless.json().detail, /openAiApiKey/);

    const openAiApiKey = fakeOpenAiApiKey();
    const created = await put({ faqText: '  Q: Hours?\nA: 9-5.  ', openAiApiKey, widgetColor: '#ABC', title: 'Ask away', dailyMessageLimit: 50 });
    t.equal(created.statusCode, 201, created.body);
    t.match(created.json(), {
      faqText: 'Q: Hours?\nA: 9-5.',
      widgetColor: '#abc',
      openAiApiKey: `sk-…${openAiApiKey.slice(-4)}`,
      model: 'gpt-4o-mini',
      title: 'Ask away',
      greeting: CONFIGURATION_DEFAULTS.greeting,
      fallbackText: CONFIGURATION_DEFAULTS.fallbackText,
      allowedOrigins: [],
      dailyMessageLimit: 50,
      createdAt: String,
      updatedAt: String,
    });

    // At rest: versioned AES-GCM ciphertext bound to the row id.
    const [row] = await database.db.select().from(configurations).where(eq(configurations.userId, owner.userId));
    t.match(row?.openAiApiKey, /^v1\./);
    const box = createSecretBox(config.secretKey);
    t.equal(box.decrypt(row!.openAiApiKey, row!.id), openAiApiKey);
    t.throws(() => box.decrypt(row!.openAiApiKey, 'another-row-id'), 'a ciphertext copied to another row does not decrypt');

    // PUT again without the key: keeps it; omitted fields return to their defaults.
    const replaced = await put({ faqText: 'New FAQ', model: 'gpt-4.1-mini' });
    t.equal(replaced.statusCode, 200);
    t.match(replaced.json(), { faqText: 'New FAQ', model: 'gpt-4.1-mini', widgetColor: '#007bff', title: CONFIGURATION_DEFAULTS.title, dailyMessageLimit: null });
    t.equal(replaced.json().openAiApiKey, `sk-…${openAiApiKey.slice(-4)}`, 'the stored key is kept');
    t.equal(replaced.json().createdAt, created.json().createdAt);

    const patched = await patch({ widgetColor: '#FF0000', allowedOrigins: ['https://a.example', 'https://A.example/', 'http://localhost:8080'] });
    t.equal(patched.statusCode, 200);
    t.match(patched.json(), { faqText: 'New FAQ', model: 'gpt-4.1-mini', widgetColor: '#ff0000', allowedOrigins: ['https://a.example', 'http://localhost:8080'] });

    const newKey = fakeOpenAiApiKey();
    const rekeyed = await patch({ openAiApiKey: newKey, dailyMessageLimit: null });
    t.equal(rekeyed.json().openAiApiKey, `sk-…${newKey.slice(-4)}`);
    const [rekeyedRow] = await database.db.select().from(configurations).where(eq(configurations.userId, owner.userId));
    t.equal(box.decrypt(rekeyedRow!.openAiApiKey, rekeyedRow!.id), newKey);

    const read = await app.inject({ method: 'GET', url: '/v1/configuration', headers: auth });
    t.same(read.json(), rekeyed.json(), 'GET shows what PATCH returned');
    t.notMatch(read.body, newKey);
  });

  t.test(`validation limits on ${kind}`, async (t) => {
    const { app } = await buildOwnerTestApp(t, { kind });
    const owner = await signUpOwner(app);
    const auth = bearer(owner.token);
    const base = { faqText: 'FAQ', openAiApiKey: fakeOpenAiApiKey() };
    const rejected: Array<[string, object]> = [
      ['empty faqText', { faqText: '   ' }],
      ['NUL in faqText', { faqText: 'a\u0000b' }],
      ['NUL in title', { title: 'a\u0000' }],
      ['faqText over the limit', { faqText: 'x'.repeat(CONFIGURATION_LIMITS.faqTextMaxChars + 1) }],
      ['colour name', { widgetColor: 'red' }],
      ['four-digit colour', { widgetColor: '#abcd' }],
      ['colour without #', { widgetColor: '007bff' }],
      ['css injection colour', { widgetColor: '#fff;background:url(x)' }],
      ['unknown model', { model: 'gpt-2' }],
      ['key without sk-', { openAiApiKey: 'pk-' + 'a'.repeat(30) }],
      ['key with a space', { openAiApiKey: 'sk-abc def ghi jkl mno pqr' }],
      ['short key', { openAiApiKey: 'sk-short' }],
      ['masked key sent back', { openAiApiKey: 'sk-…abcd' + 'x'.repeat(20) }],
      ['origin with a path', { allowedOrigins: ['https://shop.example.com/shop'] }],
      ['origin with a query', { allowedOrigins: ['https://shop.example.com?x=1'] }],
      ['wildcard origin', { allowedOrigins: ['https://*.example.com'] }],
      ['ftp origin', { allowedOrigins: ['ftp://example.com'] }],
      ['bare host', { allowedOrigins: ['example.com'] }],
      ['origin with credentials', { allowedOrigins: ['https://user:pw@example.com'] }],
      ['null origin', { allowedOrigins: ['null'] }],
      ['too many origins', { allowedOrigins: Array.from({ length: 51 }, (_, i) => `https://s${i}.example.com`) }],
      ['zero daily limit', { dailyMessageLimit: 0 }],
      ['fractional daily limit', { dailyMessageLimit: 1.5 }],
      ['title too long', { title: 't'.repeat(CONFIGURATION_LIMITS.titleMaxChars + 1) }],
      ['empty greeting', { greeting: '' }],
      ['unknown field', { colour: '#fff' }],
    ];
    for (const [name, change] of rejected) {
      const response = await app.inject({ method: 'PUT', url: '/v1/configuration', headers: auth, payload: { ...base, ...change } });
      t.equal(response.statusCode, 400, `PUT rejects ${name}`);
      t.equal(response.json().code, 'VALIDATION_FAILED');
    }
    t.equal((await app.inject({ method: 'GET', url: '/v1/configuration', headers: auth })).statusCode, 404, 'nothing was stored');

    const accepted = await app.inject({
      method: 'PUT',
      url: '/v1/configuration',
      headers: auth,
      payload: { ...base, faqText: 'x'.repeat(CONFIGURATION_LIMITS.faqTextMaxChars), allowedOrigins: ['HTTPS://Shop.Example.com:443', 'http://[::1]:3000', 'https://bücher.example'] },
    });
    t.equal(accepted.statusCode, 201, accepted.body.slice(0, 300));
    t.same(accepted.json().allowedOrigins, ['https://shop.example.com', 'http://[::1]:3000', 'https://xn--bcher-kva.example']);
    for (const model of SUPPORTED_MODELS) {
      const response = await app.inject({ method: 'PATCH', url: '/v1/configuration', headers: auth, payload: { model } });
      t.equal(response.statusCode, 200, `accepts ${model}`);
    }
    for (const [name, change] of rejected) {
      const response = await app.inject({ method: 'PATCH', url: '/v1/configuration', headers: auth, payload: change });
      t.equal(response.statusCode, 400, `PATCH rejects ${name}`);
    }
  });

  t.test(`configuration writes reach the widget on the next request on ${kind}`, async (t) => {
    const { app } = await buildOwnerTestApp(t, { kind });
    const owner = await createConfiguredOwner(app, { widgetColor: '#111111', title: 'Before' });
    t.match(await app.widgetKeys.resolve(owner.key), { widgetColor: '#111111', title: 'Before' });

    await app.inject({ method: 'PATCH', url: '/v1/configuration', headers: bearer(owner.token), payload: { widgetColor: '#222', title: 'After' } });
    t.match(await app.widgetKeys.resolve(owner.key), { widgetColor: '#222', title: 'After' }, 'PATCH invalidates the cache');

    await app.inject({ method: 'PUT', url: '/v1/configuration', headers: bearer(owner.token), payload: { faqText: 'Replaced', allowedOrigins: ['https://only.example'] } });
    t.match(await app.widgetKeys.resolve(owner.key), { faqText: 'Replaced', allowedOrigins: ['https://only.example'], widgetColor: '#007bff' }, 'PUT too');
  });
}
