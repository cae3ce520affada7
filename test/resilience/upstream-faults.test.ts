import { eq } from 'drizzle-orm';
import t, { type Test } from 'tap';
import { messages } from '../../src/db/schema.js';
import { type ChatTestApp, eventually, startChatApp } from '../chat/chat-client.js';
import { freePort } from '../foundation/built-server.js';
import { createWidgetOwner } from '../helpers/widget-fixtures.js';
import { startFakeOpenAi } from '../support/fake-openai.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { answerText, type ChatOutcome, postChat } from './resilience-client.js';

const limits = { RATE_LIMIT_VISITOR_PER_MINUTE: '100000', RATE_LIMIT_KEY_PER_MINUTE: '100000' };

/** The app talks to the fake upstream through a TCP proxy, whose connection count shows leaked sockets. */
const startBehindProxy = async (t: Test, env: Record<string, string> = {}): Promise<ChatTestApp & { proxy: TcpProxy }> => {
  const fake = await startFakeOpenAi();
  t.teardown(() => fake.close());
  const proxy = await startTcpProxy({ port: Number(new URL(fake.url).port) });
  t.teardown(() => proxy.close());
  const chat = await startChatApp(t, { fake, env: { ...limits, OPENAI_BASE_URL: `http://127.0.0.1:${proxy.port}/v1`, ...env } });
  return { ...chat, proxy };
};

const openConnections = (chat: ChatTestApp): Promise<number> =>
  new Promise((resolve, reject) => chat.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));

/** JSON mode gets a problem+json with `code`; SSE mode gets a 200 stream that ends with an error event of `code`. */
const assertVisitorError = (t: Test, outcome: ChatOutcome, code: string, status: number) => {
  if (outcome.events) {
    t.equal(outcome.status, 200, 'the stream had started');
    t.match(outcome.events.at(-1), { event: 'error', data: { code, message: String } }, `the stream ends with an ${code} error event`);
    t.notOk(outcome.events.some((event) => event.event === 'done'));
  } else {
    t.equal(outcome.status, status);
    t.match(outcome.contentType, /^application\/problem\+json/);
    t.match(outcome.json, { status, code, title: String, detail: String });
  }
  t.notOk(outcome.error, 'answered, not hung');
};

/** Sockets to the upstream and from the clients are all released once the requests are over. */
const assertNoLeaks = async (t: Test, chat: ChatTestApp & { proxy?: TcpProxy }) => {
  await eventually(async () => (await openConnections(chat)) === 0);
  t.pass('the app holds no client connection');
  if (chat.proxy) {
    // Idle keep-alive sockets to the upstream are closed by the pool after a few seconds at most.
    await eventually(async () => chat.proxy!.openConnections() === 0, 100);
    t.pass('no socket to the upstream is left open');
  }
};

t.test('a first token slower than OPENAI_TIMEOUT_MS: 504 / UPSTREAM_TIMEOUT event, nothing hangs or leaks', async (t) => {
  const chat = await startBehindProxy(t, { OPENAI_TIMEOUT_MS: '200' });
  const owner = await createWidgetOwner(chat);
  chat.fake.script({ firstTokenDelayMs: 5000 });
  const [json, stream] = await Promise.all([
    postChat(chat.url, owner.key, { message: 'slow json' }, { timeoutMs: 20_000 }),
    postChat(chat.url, owner.key, { message: 'slow stream' }, { stream: true, timeoutMs: 20_000 }),
  ]);
  assertVisitorError(t, json, 'UPSTREAM_TIMEOUT', 504);
  assertVisitorError(t, stream, 'UPSTREAM_TIMEOUT', 504);
  const failed = await chat.database.db.select().from(messages).where(eq(messages.status, 'failed'));
  t.equal(failed.length, 2, 'both failed answers are recorded');
  await assertNoLeaks(t, chat);
});

t.test('an upstream refusing connections: 503 / UPSTREAM_UNAVAILABLE event, nothing hangs', async (t) => {
  const closedPort = await freePort();
  const chat = await startChatApp(t, { env: { ...limits, OPENAI_BASE_URL: `http://127.0.0.1:${closedPort}/v1` } });
  const owner = await createWidgetOwner(chat);
  const [json, stream] = await Promise.all([
    postChat(chat.url, owner.key, { message: 'refused json' }, { timeoutMs: 20_000 }),
    postChat(chat.url, owner.key, { message: 'refused stream' }, { stream: true, timeoutMs: 20_000 }),
  ]);
  assertVisitorError(t, json, 'UPSTREAM_UNAVAILABLE', 503);
  assertVisitorError(t, stream, 'UPSTREAM_UNAVAILABLE', 503);
  const questions = await chat.database.db.select().from(messages).where(eq(messages.role, 'user'));
  t.equal(questions.length, 2, 'the visitor messages were stored before the call');
  await assertNoLeaks(t, chat);
});

t.test('a storm of upstream 500s: every visitor gets a clear error, then service resumes', async (t) => {
  const chat = await startBehindProxy(t);
  const owner = await createWidgetOwner(chat);
  chat.fake.failNext(10_000, { status: 500 });
  const storm = await Promise.all(
    Array.from({ length: 12 }, (_, index) => postChat(chat.url, owner.key, { message: `storm ${index}` }, { stream: index % 2 === 0, timeoutMs: 20_000 })),
  );
  for (const outcome of storm) assertVisitorError(t, outcome, 'UPSTREAM_UNAVAILABLE', 503);
  t.ok(chat.fake.requests.length <= 12 * 3, 'at most two retries per question');
  chat.fake.reset();
  const after = await postChat(chat.url, owner.key, { message: 'after the storm' }, { timeoutMs: 20_000 });
  t.equal(after.status, 200);
  t.match(after.json, { answer: 'This is the answer from the FAQ.' });
  await assertNoLeaks(t, chat);
});

t.test('an upstream cut mid-answer: the partial answer is kept and the stream ends with an error', async (t) => {
  const chat = await startBehindProxy(t);
  const owner = await createWidgetOwner(chat);
  chat.fake.script({ reply: 'one two three four five six', deltas: 6, tokenGapMs: 10, cutAfterDeltas: 2 });
  const stream = await postChat(chat.url, owner.key, { message: 'cut' }, { stream: true, timeoutMs: 20_000 });
  t.equal(stream.status, 200);
  t.match(stream.events!.at(-1), { event: 'error', data: { code: 'UPSTREAM_UNAVAILABLE' } });
  const [partial] = await chat.database.db.select().from(messages).where(eq(messages.role, 'assistant'));
  t.match(partial, { status: 'partial', content: answerText(stream) });
  t.ok(answerText(stream).length > 0 && answerText(stream) !== 'one two three four five six', 'a non-empty, incomplete answer reached the visitor');
  await assertNoLeaks(t, chat);
});
