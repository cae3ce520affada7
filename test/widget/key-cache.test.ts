import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { openPostgresDatabase } from '../../src/db/client.js';
import { WIDGET_KEY_TTL_MS } from '../../src/plugins/widget-key-cache.js';
import { buildTestApp, createScratchPostgresUrl, databaseKinds, testConfig } from '../helpers/app.js';
import { createOwnerSession, createWidgetOwner, revokeWidgetKey } from '../helpers/widget-fixtures.js';

const configStatus = async (app: Awaited<ReturnType<typeof buildTestApp>>['app'], key: string) =>
  (await app.inject({ method: 'GET', url: '/v1/widget/config', headers: { 'x-widget-key': key } })).statusCode;

t.equal(WIDGET_KEY_TTL_MS, 1000, 'PRODUCT: a revocation reaches every instance within 1 second');

for (const kind of databaseKinds()) {
  t.test(`a change made elsewhere is seen once the cached entry expires (${kind})`, async (t) => {
    const testApp = await buildTestApp(t, { kind });
    const owner = await createWidgetOwner(testApp);
    t.equal(await configStatus(testApp.app, owner.key), 200);

    // Revoked behind this instance's back (as another instance would): the cache may still serve it…
    await revokeWidgetKey(testApp.database.db, owner.apiKeyId);
    // …but never longer than the TTL.
    await sleep(WIDGET_KEY_TTL_MS + 100);
    t.equal(await configStatus(testApp.app, owner.key), 401, 'refused once the TTL has passed');
  });
}

if (process.env.TEST_DATABASE_URL) {
  t.test('two instances on one PostgreSQL: revoking through one stops the key on both', async (t) => {
    const url = await createScratchPostgresUrl(t);
    const config = testConfig(t);
    const instances = [];
    for (let index = 0; index < 2; index++) {
      const database = await openPostgresDatabase(url);
      if (index === 0) await database.migrate();
      const app = await buildApp(config, { database });
      t.teardown(() => app.close());
      instances.push({ app, database, config });
    }
    const [first, second] = instances as [(typeof instances)[0], (typeof instances)[0]];
    const owner = await createWidgetOwner(first);
    const token = await createOwnerSession(first, owner.userId);
    t.equal(await configStatus(first.app, owner.key), 200);
    t.equal(await configStatus(second.app, owner.key), 200, 'both instances have the key cached');

    const revoked = await first.app.inject({ method: 'DELETE', url: '/v1/api-key', headers: { authorization: `Bearer ${token}` } });
    t.equal(revoked.statusCode, 200);
    t.equal(await configStatus(first.app, owner.key), 401, 'the instance that revoked it refuses on the very next request');

    await sleep(WIDGET_KEY_TTL_MS + 100);
    t.equal(await configStatus(second.app, owner.key), 401, 'the other instance refuses within the TTL');
  });
}
