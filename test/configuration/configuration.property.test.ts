import fc from 'fast-check';
import t from 'tap';
import { SUPPORTED_MODELS } from '../../src/configuration/configuration-schemas.js';
import { databaseKinds } from '../helpers/app.js';
import { arbitraryJsonBody, awkwardString, bearer, buildOwnerTestApp, signUpOwner } from '../helpers/owner.js';

const NUM_RUNS = 150;

const origin = fc.oneof(
  fc.webUrl(),
  fc.webUrl().map((url) => new URL(url).origin),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  awkwardString(),
  fc.constantFrom('https://*.example.com', 'http://[::1]:3000', 'https://bücher.example', 'null', 'https://a.example:99999'),
);

const configuration = {
  faqText: awkwardString(),
  widgetColor: fc.oneof(fc.constantFrom('#fff', '#ABCDEF', '#abcd', 'red'), awkwardString(), fc.stringMatching(/^#[0-9a-fA-F]{3,6}$/)),
  openAiApiKey: fc.oneof(awkwardString(), awkwardString().map((s) => `sk-${s}`), fc.stringMatching(/^sk-[A-Za-z0-9_-]{17,40}$/)),
  model: fc.oneof(fc.constantFrom(...SUPPORTED_MODELS), awkwardString()),
  title: awkwardString(),
  greeting: awkwardString(),
  fallbackText: awkwardString(),
  allowedOrigins: fc.oneof(fc.array(origin, { maxLength: 60 }), fc.jsonValue()),
  dailyMessageLimit: fc.oneof(fc.integer(), fc.double(), fc.constant(null), fc.bigInt().map(String)),
};

for (const kind of databaseKinds()) {
  t.test(`configuration routes never answer 5xx on ${kind}`, async (t) => {
    const { app } = await buildOwnerTestApp(t, { kind });
    const owner = await signUpOwner(app);
    const statuses = new Set<number>();

    for (const method of ['PUT', 'PATCH', 'PUT'] as const) {
      await fc.assert(
        fc.asyncProperty(arbitraryJsonBody(configuration, { faqText: 'FAQ', openAiApiKey: 'sk-test-0123456789abcdef' }), async (body) => {
          const response = await app.inject({
            method,
            url: '/v1/configuration',
            headers: { ...bearer(owner.token), 'content-type': 'application/json' },
            payload: JSON.stringify(body),
          });
          statuses.add(response.statusCode);
          if (response.statusCode >= 500) throw new Error(`${method} ${JSON.stringify(body).slice(0, 300)} → ${response.statusCode} ${response.body}`);
          if (response.statusCode >= 400 && !String(response.headers['content-type']).startsWith('application/problem+json')) throw new Error('not a problem body');
        }),
        { numRuns: NUM_RUNS },
      );
      t.pass(`${method} /v1/configuration: ${NUM_RUNS} bodies, no 5xx`);
    }
    t.ok(statuses.has(400), 'bad bodies were rejected');
    t.ok([...statuses].some((status) => status === 200 || status === 201), 'some bodies were accepted');

    const read = await app.inject({ method: 'GET', url: '/v1/configuration', headers: bearer(owner.token) });
    t.ok(read.statusCode === 200 || read.statusCode === 404, 'GET still answers');
  });
}
