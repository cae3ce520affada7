import fc from 'fast-check';
import t from 'tap';
import { databaseKinds } from '../helpers/app.js';
import { arbitraryJsonBody, awkwardString, bearer, buildOwnerTestApp, signUpOwner } from '../helpers/owner.js';

const NUM_RUNS = 150;

const credentials = {
  email: fc.oneof(fc.emailAddress(), awkwardString(), fc.emailAddress().map((email) => ` ${email.toUpperCase()} `)),
  password: fc.oneof(awkwardString(), fc.string({ minLength: 10, maxLength: 1100 })),
};

for (const kind of databaseKinds()) {
  t.test(`account routes never answer 5xx on ${kind}`, async (t) => {
    const { app } = await buildOwnerTestApp(t, { kind });
    const owner = await signUpOwner(app);

    for (const url of ['/v1/auth/signup', '/v1/auth/login']) {
      await fc.assert(
        fc.asyncProperty(arbitraryJsonBody(credentials, { email: 'fuzz@example.com', password: 'a valid password' }), async (body) => {
          const response = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
          if (response.statusCode >= 500) throw new Error(`${url} ${JSON.stringify(body).slice(0, 200)} → ${response.statusCode} ${response.body}`);
          if (response.statusCode >= 400 && !String(response.headers['content-type']).startsWith('application/problem+json')) throw new Error('not a problem body');
        }),
        { numRuns: NUM_RUNS },
      );
      t.pass(`${url}: ${NUM_RUNS} bodies, no 5xx`);
    }

    await fc.assert(
      fc.asyncProperty(fc.string(), async (raw) => {
        const response = await app.inject({ method: 'POST', url: '/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: raw });
        if (response.statusCode >= 500) throw new Error(`raw ${JSON.stringify(raw)} → ${response.statusCode}`);
      }),
      { numRuns: 50 },
    );
    t.pass('raw, mostly malformed JSON: no 5xx');

    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (body) => {
        const response = await app.inject({ method: 'GET', url: '/v1/me', headers: { ...bearer(owner.token), 'content-type': 'application/json' }, payload: JSON.stringify(body) });
        if (response.statusCode !== 200) throw new Error(`GET /v1/me → ${response.statusCode}`);
      }),
      { numRuns: 30 },
    );
    t.pass('GET /v1/me ignores bodies');

    // logout and account deletion end the session, so each run gets a fresh owner.
    for (const [method, url] of [['POST', '/v1/auth/logout'], ['DELETE', '/v1/me']] as const) {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue(), async (body) => {
          const { token } = await signUpOwner(app);
          const response = await app.inject({ method, url, headers: { ...bearer(token), 'content-type': 'application/json' }, payload: JSON.stringify(body) });
          if (response.statusCode !== 204) throw new Error(`${method} ${url} → ${response.statusCode} ${response.body}`);
        }),
        { numRuns: 20 },
      );
      t.pass(`${method} ${url} ignores bodies`);
    }
  });
}
