import fc from 'fast-check';
import t from 'tap';
import { databaseKinds } from '../helpers/app.js';
import { bearer, buildOwnerTestApp, configureOwner, signUpOwner } from '../helpers/owner.js';

const NUM_RUNS = 100;

for (const kind of databaseKinds()) {
  t.test(`widget-key routes ignore any body and never answer 5xx on ${kind}`, async (t) => {
    const { app } = await buildOwnerTestApp(t, { kind });
    const owner = await signUpOwner(app);
    await configureOwner(app, owner.token);
    const routes = [
      ['POST', '/v1/api-key'],
      ['GET', '/v1/api-key'],
      ['POST', '/v1/api-key/rotate'],
      ['DELETE', '/v1/api-key'],
    ] as const;

    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.jsonValue(), async ([method, url], body) => {
        const response = await app.inject({ method, url, headers: { ...bearer(owner.token), 'content-type': 'application/json' }, payload: JSON.stringify(body) });
        if (response.statusCode >= 500) throw new Error(`${method} ${url} → ${response.statusCode} ${response.body}`);
        if (![200, 201, 404, 409].includes(response.statusCode)) throw new Error(`${method} ${url} → unexpected ${response.statusCode} ${response.body}`);
      }),
      { numRuns: NUM_RUNS },
    );
    t.pass(`${NUM_RUNS} calls with arbitrary bodies, no 5xx`);
  });
}
