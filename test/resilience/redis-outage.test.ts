import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import t from 'tap';
import { eventually, startChatApp } from '../chat/chat-client.js';
import { createWidgetOwner } from '../helpers/widget-fixtures.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { postChat } from './resilience-client.js';

// The shared Redis is never stopped: the app reaches it through a TCP proxy the test cuts and restores.
const redis = new URL(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');

const redisAnswers = (): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(Number(redis.port || 6379), redis.hostname);
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => socket.end('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
  });

t.test('the chat rate limit fails closed while Redis is unreachable, and recovers when it is back', async (t) => {
  if (!(await redisAnswers())) {
    t.pass(`skipped: no Redis at ${redis.host} (set TEST_REDIS_URL)`);
    return;
  }
  const proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
  t.teardown(() => proxy.close());
  const chat = await startChatApp(t, {
    env: {
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      REDIS_KEY_PREFIX: `faqchat-test-${randomBytes(4).toString('hex')}:`,
      RATE_LIMIT_VISITOR_PER_MINUTE: '1000',
      RATE_LIMIT_KEY_PER_MINUTE: '1000',
    },
  });
  const owner = await createWidgetOwner(chat);

  const before = await postChat(chat.url, owner.key, { message: 'before the outage' });
  t.equal(before.status, 200, 'answers while Redis is up');
  const callsBefore = chat.fake.requests.length;

  await proxy.stop();
  const during = await Promise.all(
    Array.from({ length: 5 }, (_, index) => postChat(chat.url, owner.key, { message: `during ${index}` }, { stream: index % 2 === 0, timeoutMs: 15_000 })),
  );
  for (const outcome of during) {
    t.equal(outcome.status, 503, 'refused with 503, not answered without a limit');
    t.match(outcome.contentType, /^application\/problem\+json/);
    t.match(outcome.json, { status: 503, code: 'SERVICE_UNAVAILABLE' });
  }
  t.equal(chat.fake.requests.length, callsBefore, 'no upstream spend while the limit cannot be checked');
  const config = await chat.app.inject({ method: 'GET', url: '/v1/widget/config', headers: { 'x-widget-key': owner.key } });
  t.equal(config.statusCode, 200, 'routes without a rate limit keep working');

  await proxy.start();
  // ioredis reconnects with backoff by itself; poll (bounded by the test timeout) until a chat goes through.
  const after = await eventually(async () => {
    const outcome = await postChat(chat.url, owner.key, { message: 'after the outage' });
    return outcome.status === 200 ? outcome : null;
  }, 250);
  t.equal(after.status, 200, 'chats are answered again once Redis is back');
});
