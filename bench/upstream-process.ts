/**
 * The fake OpenAI-compatible upstream in its own process, so the load generator and the
 * upstream do not share an event loop. Prints `{"url": …, "control": …}` on stdout once
 * listening; POST /script on the control port merges a FakeScript patch (used between phases).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeOpenAi } from '../test/support/fake-openai.js';

const fake = await startFakeOpenAi({
  reply: 'x'.repeat(64),
  deltas: 8,
  firstTokenDelayMs: Number(process.env.BENCH_FIRST_TOKEN_MS ?? 0),
  tokenGapMs: 0,
});

const control = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    if (req.method === 'POST' && req.url === '/script') {
      fake.script(JSON.parse(body) as Parameters<typeof fake.script>[0]);
      fake.requests.length = 0; // keep memory flat over thousands of calls
    }
    res.end('{}');
  });
});
control.listen(0, '127.0.0.1', () => {
  const { port } = control.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: fake.url, control: `http://127.0.0.1:${port}` })}\n`);
});

// Recorded requests would grow without bound during the bench: trim them.
setInterval(() => (fake.requests.length = 0), 1000).unref();

const stop = async () => {
  control.close();
  await fake.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
