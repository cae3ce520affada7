import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import t from 'tap';
import { openEmbeddedDatabase } from '../../src/db/client.js';
import { conversations, messages } from '../../src/db/schema.js';
import { parseSse, type SseEvent } from '../chat/chat-client.js';
import { ensureBuilt, freePort, spawnServer, waitUntilAnswering } from '../foundation/built-server.js';
import { openTestDatabase, testSecretKey } from '../helpers/app.js';
import { createWidgetOwner } from '../helpers/widget-fixtures.js';
import { startFakeOpenAi } from '../support/fake-openai.js';

// A real process (dist/server.js), real signals: generous bound for a loaded machine; every wait inside is bounded too.
t.setTimeout(240_000);

const SHUTDOWN_TIMEOUT_MS = 2000;

interface OpenStream {
  /** Resolves with the conversation id once the first delta has arrived. */
  firstDelta: Promise<string>;
  /** Resolves when the stream has ended (cleanly or not), with what arrived. */
  finished: Promise<{ events: SseEvent[]; text: string; error?: string }>;
}

/** Opens an SSE chat and reads it incrementally, bounded by timeoutMs. */
const openStream = (baseUrl: string, key: string, message: string, timeoutMs = 30_000): OpenStream => {
  let onFirst: (conversationId: string) => void = () => {};
  let onFirstFailed: (error: Error) => void = () => {};
  const firstDelta = new Promise<string>((resolve, reject) => {
    onFirst = resolve;
    onFirstFailed = reject;
  });
  const finished = (async () => {
    let body = '';
    let error: string | undefined;
    try {
      const response = await fetch(`${baseUrl}/v1/widget/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-widget-key': key },
        body: JSON.stringify({ message }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const decoder = new TextDecoder();
      const reader = response.body!.getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        body += decoder.decode(read.value, { stream: true });
        const events = parseSse(body.slice(0, body.lastIndexOf('\n\n') + 2));
        if (events.some((event) => event.event === 'delta')) {
          onFirst((events.find((event) => event.event === 'conversation')!.data as { conversationId: string }).conversationId);
        }
      }
    } catch (caught) {
      error = (caught as Error).message;
    }
    const events = parseSse(body.slice(0, body.lastIndexOf('\n\n') + 2));
    onFirstFailed(new Error(`stream for "${message}" ended before its first delta: ${error ?? body.slice(0, 300)}`));
    const text = events.filter((event) => event.event === 'delta').map((event) => (event.data as { text: string }).text).join('');
    return { events, text, ...(error ? { error } : {}) };
  })();
  return { firstDelta, finished };
};

t.test('SIGTERM during streams: refuse new work, end open streams by the deadline with their answers stored, exit 0', async (t) => {
  await ensureBuilt(t);
  const secretKey = testSecretKey();
  const dataDir = mkdtempSync(join(tmpdir(), 'faqchat-shutdown-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  // A migrated DATA_DIR with one widget owner, prepared before the server opens it.
  const template = await openTestDatabase(t, 'embedded');
  const dump = await template.dump!();
  await template.close();
  const seed = await openEmbeddedDatabase(join(dataDir, 'pg'), { loadDataDir: dump });
  const owner = await createWidgetOwner({ database: seed, config: { secretKey: Buffer.from(secretKey, 'base64') } });
  await seed.close();

  const fake = await startFakeOpenAi();
  t.teardown(() => fake.close());
  const port = await freePort();
  const server = spawnServer(t, {
    PORT: String(port),
    DATA_DIR: dataDir,
    SECRET_KEY: secretKey,
    OPENAI_BASE_URL: `${fake.url}/v1`,
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    LOG_LEVEL: 'info',
  }, port);
  await waitUntilAnswering(server, '/health');

  // One answer that fits in the deadline (10 x 100 ms), two that cannot (60 x 100 ms).
  const words = (count: number) => Array.from({ length: count }, (_, index) => `w${index} `).join('');
  fake.script({ reply: words(10), deltas: 10, tokenGapMs: 100 });
  const short = openStream(server.baseUrl, owner.key, 'short answer please');
  const shortConversation = await short.firstDelta;
  fake.script({ reply: words(60), deltas: 60, tokenGapMs: 100 });
  const long = [openStream(server.baseUrl, owner.key, 'long answer 1'), openStream(server.baseUrl, owner.key, 'long answer 2')];
  const longConversations = await Promise.all(long.map((stream) => stream.firstDelta));

  server.child.kill('SIGTERM');
  // Bounded poll: as soon as the server has taken the signal, a new request is refused.
  let refused: string | undefined;
  for (let attempt = 0; attempt < 50 && !refused; attempt++) {
    try {
      const response = await fetch(`${server.baseUrl}/health`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 503) refused = 'status 503';
    } catch (error) {
      refused = `connection refused (${((error as Error).cause as { code?: string } | undefined)?.code ?? (error as Error).message})`;
    }
    if (!refused) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.ok(refused, `new requests are refused after SIGTERM: ${refused}`);

  const shortResult = await short.finished;
  t.match(shortResult.events.at(-1), { event: 'done' }, 'the stream that fits in the deadline finishes normally');
  const longResults = await Promise.all(long.map((stream) => stream.finished));
  for (const result of longResults) {
    t.notOk(result.error, 'the long stream ends cleanly (not cut by the process exiting)');
    t.match(result.events.at(-1), { event: 'error', data: { code: String, message: String } }, 'and says so with a final error event');
    t.ok(result.text.length > 0 && result.text !== words(60), 'after part of the answer');
  }

  const exit = await server.exited(SHUTDOWN_TIMEOUT_MS + 20_000);
  t.same(exit, { code: 0, signal: null }, 'the process exits 0 within the deadline', { serverLog: server.stdout().split('\n').slice(-15).join('\n') });

  const database = await openEmbeddedDatabase(join(dataDir, 'pg'));
  t.teardown(() => database.close());
  const answerOf = async (conversationId: string) => {
    const rows = await database.db
      .select({ role: messages.role, content: messages.content, status: messages.status })
      .from(messages)
      .innerJoin(conversations, eq(conversations.id, messages.conversationId))
      .where(eq(messages.conversationId, conversationId));
    return rows.find((row) => row.role === 'assistant');
  };
  t.match(await answerOf(shortConversation), { status: 'complete', content: words(10) }, 'the finished answer is stored');
  for (const [index, conversationId] of longConversations.entries()) {
    const stored = await answerOf(conversationId);
    t.ok(stored && stored.status !== 'complete', `the interrupted answer is stored as ${stored?.status}`);
    t.equal(stored?.content, longResults[index]!.text, 'with exactly the text the visitor saw');
  }
});
