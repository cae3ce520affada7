import { once } from 'node:events';
import { type IncomingMessage, request as httpRequest } from 'node:http';
import { PassThrough } from 'node:stream';
import { and, asc, eq } from 'drizzle-orm';
import t from 'tap';
import { messages } from '../../src/db/schema.js';
import { databaseKinds } from '../helpers/app.js';
import { createWidgetOwner } from '../helpers/widget-fixtures.js';
import { chatStream, eventually, startChatApp } from './chat-client.js';

const captureLogs = () => {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
  return { stream, text: () => lines.join('') };
};

for (const kind of databaseKinds()) {
  t.test(`answers come from this owner's FAQ only and the key never leaks (${kind})`, async (t) => {
    const logs = captureLogs();
    const chat = await startChatApp(t, { kind, logStream: logs.stream });
    const alice = await createWidgetOwner(chat, { faqText: 'Q: Do you ship abroad?\nA: ALICE-FAQ yes, to the EU.', fallbackText: 'Ask Alice.' });
    const bob = await createWidgetOwner(chat, { faqText: 'Q: Refunds?\nA: BOB-FAQ within 30 days.' });

    const fromAlice = await chatStream(chat.url, alice.key, { message: '  Do you ship to Norway?  ' });
    t.equal(fromAlice.status, 200);
    const fromBob = await chatStream(chat.url, bob.key, { message: 'Can I get a refund?' });
    t.equal(fromBob.status, 200);

    t.equal(chat.fake.requests.length, 2);
    const [aliceCall, bobCall] = chat.fake.requests;
    t.equal(aliceCall!.headers.authorization, `Bearer ${alice.openAiApiKey}`, "the owner's key is the bearer");
    t.equal(bobCall!.headers.authorization, `Bearer ${bob.openAiApiKey}`);
    const aliceMessages = aliceCall!.body!.messages!;
    t.equal(aliceMessages[0]!.role, 'system');
    t.match(aliceMessages[0]!.content, /<faq>\nQ: Do you ship abroad\?\nA: ALICE-FAQ yes, to the EU\.\n<\/faq>/);
    t.match(aliceMessages[0]!.content, /"Ask Alice\."/, 'the fallback text is in the rules');
    t.notMatch(aliceMessages[0]!.content, /Do you ship to Norway/, 'the question is not in the system message');
    t.same(aliceMessages.at(-1), { role: 'user', content: 'Do you ship to Norway?' }, 'the trimmed question is the last user message');
    t.equal(aliceCall!.body!.model, 'gpt-4o-mini');
    t.equal(aliceCall!.body!.max_completion_tokens, 512);
    t.same(aliceCall!.body!.stream_options, { include_usage: true });
    t.notMatch(JSON.stringify(aliceCall!.body), /BOB-FAQ/, "never another tenant's FAQ");
    t.notMatch(JSON.stringify(bobCall!.body), /ALICE-FAQ/);

    for (const call of chat.fake.requests) {
      const body = JSON.stringify(call.body);
      t.notOk(body.includes(alice.openAiApiKey) || body.includes(bob.openAiApiKey), 'no key in any prompt');
    }
    t.notOk(fromAlice.body.includes(alice.openAiApiKey), 'no key in the response');

    // An upstream that echoes the key in its error message (as OpenAI does) must not get it into our logs.
    chat.fake.failNext(1, { status: 401, message: `Incorrect API key provided: ${alice.openAiApiKey}` });
    const rejected = await chatStream(chat.url, alice.key, { message: 'Hello?' });
    t.match(rejected.events.at(-1), { event: 'error', data: { code: 'UPSTREAM_UNAVAILABLE' } });
    t.notOk(rejected.body.includes(alice.openAiApiKey));
    await chat.app.close();
    const logText = logs.text();
    t.match(logText, new RegExp(`"configurationId":"${alice.configurationId}"`), 'the owner learns about the bad key from the logs');
    t.notOk(logText.includes(alice.openAiApiKey), 'the OpenAI key never appears in a log line');
    t.notOk(logText.includes(bob.openAiApiKey));
    t.notOk(logText.includes(alice.key), 'nor the widget key');
  });

  t.test(`SSE and JSON answers, continuity, usage stored, restore (${kind})`, async (t) => {
    const chat = await startChatApp(t, { kind });
    const owner = await createWidgetOwner(chat);
    chat.fake.script({ reply: 'We open at nine.', deltas: 4, usage: { prompt_tokens: 120, completion_tokens: 5 } });

    const first = await chatStream(chat.url, owner.key, { message: 'When do you open?' });
    t.equal(first.status, 200);
    t.match(first.headers.get('content-type'), /^text\/event-stream/);
    t.same(
      first.events.map((event) => event.event),
      ['conversation', 'delta', 'delta', 'delta', 'delta', 'done'],
    );
    const opened = first.events[0]!.data as { conversationId: string; visitorId: string };
    t.match(opened, { conversationId: String, visitorId: /^v_/ }, 'a visitor id is generated and returned');
    t.equal(
      first.events.filter((event) => event.event === 'delta').map((event) => (event.data as { text: string }).text).join(''),
      'We open at nine.',
    );
    const done = first.events.at(-1)!.data as { messageId: string };

    const [answer] = await chat.database.db.select().from(messages).where(eq(messages.id, done.messageId));
    t.match(answer, { role: 'assistant', content: 'We open at nine.', status: 'complete', promptTokens: 120, completionTokens: 5, model: 'gpt-4o-mini' });

    // Second question, JSON mode, same conversation: the first turn is in the upstream request.
    chat.fake.script({ reply: 'Until five.' });
    const second = await fetch(`${chat.url}/v1/widget/chat?key=${owner.key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'And close?', conversationId: opened.conversationId, visitorId: opened.visitorId }),
    });
    t.equal(second.status, 200);
    const json = (await second.json()) as Record<string, string>;
    t.match(json, { conversationId: opened.conversationId, visitorId: opened.visitorId, messageId: String, answer: 'Until five.' });
    t.same(
      chat.fake.requests[1]!.body!.messages!.slice(1),
      [
        { role: 'user', content: 'When do you open?' },
        { role: 'assistant', content: 'We open at nine.' },
        { role: 'user', content: 'And close?' },
      ],
      'recent turns of the same conversation are included, visitor text only in user messages',
    );

    // Someone else's conversation id does not continue it (nor reveal it): a new conversation starts.
    const stranger = await chatStream(chat.url, owner.key, { message: 'hi', conversationId: opened.conversationId, visitorId: 'v_someone-else' });
    t.not((stranger.events[0]!.data as { conversationId: string }).conversationId, opened.conversationId);
    t.equal(chat.fake.requests[2]!.body!.messages!.length, 2, 'no foreign history');

    const restore = await chat.app.inject({
      method: 'GET',
      url: `/v1/widget/conversations/${opened.conversationId}?visitorId=${opened.visitorId}`,
      headers: { 'x-widget-key': owner.key },
    });
    t.equal(restore.statusCode, 200);
    t.same(
      restore.json().messages.map((message: { role: string; content: string }) => [message.role, message.content]),
      [
        ['user', 'When do you open?'],
        ['assistant', 'We open at nine.'],
        ['user', 'And close?'],
        ['assistant', 'Until five.'],
      ],
    );
    const wrongVisitor = await chat.app.inject({
      method: 'GET',
      url: `/v1/widget/conversations/${opened.conversationId}?visitorId=v_someone-else`,
      headers: { 'x-widget-key': owner.key },
    });
    const missing = await chat.app.inject({
      method: 'GET',
      url: `/v1/widget/conversations/00000000-0000-4000-8000-000000000000?visitorId=${opened.visitorId}`,
      headers: { 'x-widget-key': owner.key },
    });
    t.equal(wrongVisitor.statusCode, 404);
    t.same(wrongVisitor.json(), missing.json(), "another visitor's conversation looks exactly like a missing one");
    const otherOwner = await createWidgetOwner(chat);
    const crossTenant = await chat.app.inject({
      method: 'GET',
      url: `/v1/widget/conversations/${opened.conversationId}?visitorId=${opened.visitorId}`,
      headers: { 'x-widget-key': otherOwner.key },
    });
    t.equal(crossTenant.statusCode, 404, "another owner's key cannot restore it");
  });

  t.test(`upstream failures are classified (${kind})`, async (t) => {
    const chat = await startChatApp(t, { kind, env: { OPENAI_TIMEOUT_MS: '400' } });
    const owner = await createWidgetOwner(chat);
    const assistantRows = async (conversationId: string) =>
      chat.database.db
        .select()
        .from(messages)
        .where(and(eq(messages.conversationId, conversationId), eq(messages.role, 'assistant')))
        .orderBy(asc(messages.createdAt));
    const conversationOf = (events: Array<{ event: string; data: unknown }>) => (events[0]!.data as { conversationId: string }).conversationId;

    t.test('401: no retry, temporarily unavailable, a failed row', async (t) => {
      chat.fake.reset();
      chat.fake.failNext(1, { status: 401 });
      const result = await chatStream(chat.url, owner.key, { message: 'q' });
      t.equal(chat.fake.requests.length, 1);
      t.same(result.events.map((event) => event.event), ['conversation', 'error']);
      t.match(result.events[1]!.data, { code: 'UPSTREAM_UNAVAILABLE', message: /temporarily unavailable/ });
      t.match(await assistantRows(conversationOf(result.events)), [{ status: 'failed', content: '' }]);

      chat.fake.failNext(1, { status: 403 });
      const json = await chat.app.inject({ method: 'POST', url: '/v1/widget/chat', headers: { 'x-widget-key': owner.key }, payload: { message: 'q' } });
      t.equal(json.statusCode, 503);
      t.match(json.headers['content-type'], /application\/problem\+json/);
      t.equal(json.json().code, 'UPSTREAM_UNAVAILABLE');
      t.equal(chat.fake.requests.length, 2);
    });

    t.test('429 insufficient_quota: no retry', async (t) => {
      chat.fake.reset();
      chat.fake.failNext(1, { status: 429, code: 'insufficient_quota', retryAfter: 0 });
      const result = await chatStream(chat.url, owner.key, { message: 'q' });
      t.equal(chat.fake.requests.length, 1, 'the fake saw exactly one request');
      t.match(result.events.at(-1), { event: 'error', data: { code: 'UPSTREAM_UNAVAILABLE' } });
    });

    t.test('500 then success: retried', async (t) => {
      chat.fake.reset();
      chat.fake.failNext(1, { status: 500 });
      const result = await chatStream(chat.url, owner.key, { message: 'q' });
      t.equal(chat.fake.requests.length, 2);
      t.equal(result.events.at(-1)!.event, 'done');
      t.match(await assistantRows(conversationOf(result.events)), [{ status: 'complete', content: 'This is the answer from the FAQ.' }]);
    });

    t.test('429 with Retry-After then success: retried', async (t) => {
      chat.fake.reset();
      chat.fake.failNext(1, { status: 429, retryAfter: 1 });
      const result = await chatStream(chat.url, owner.key, { message: 'q' });
      t.equal(chat.fake.requests.length, 2);
      t.equal(result.events.at(-1)!.event, 'done');
    });

    t.test('500 three times: two retries, then unavailable', async (t) => {
      chat.fake.reset();
      chat.fake.failNext(3, { status: 503 });
      const result = await chatStream(chat.url, owner.key, { message: 'q' });
      t.equal(chat.fake.requests.length, 3, 'at most two retries');
      t.match(result.events.at(-1), { event: 'error', data: { code: 'UPSTREAM_UNAVAILABLE' } });
    });

    t.test('timeout before the first token', async (t) => {
      chat.fake.reset();
      chat.fake.script({ firstTokenDelayMs: 5000 });
      const result = await chatStream(chat.url, owner.key, { message: 'q' });
      t.equal(chat.fake.requests.length, 3, 'timeouts before the first token are retried');
      t.match(result.events.at(-1), { event: 'error', data: { code: 'UPSTREAM_TIMEOUT' } });
      t.match(await assistantRows(conversationOf(result.events)), [{ status: 'failed' }]);
    });

    t.test('stream cut after two deltas: partial answer stored, no retry', async (t) => {
      chat.fake.reset();
      chat.fake.script({ reply: 'aaaabbbbccccdddd', deltas: 4, cutAfterDeltas: 2 });
      const result = await chatStream(chat.url, owner.key, { message: 'q' });
      t.equal(chat.fake.requests.length, 1, 'nothing is retried after the first token');
      t.same(result.events.map((event) => event.event), ['conversation', 'delta', 'delta', 'error']);
      t.match(await assistantRows(conversationOf(result.events)), [{ status: 'partial', content: 'aaaabbbb' }]);
    });

    t.test('the visitor disconnects mid-stream: upstream aborted, aborted answer stored', async (t) => {
      chat.fake.reset();
      chat.fake.script({ reply: 'one two three four five six seven eight', deltas: 8, tokenGapMs: 150 });
      // node:http rather than fetch: destroying the request closes exactly one socket, like a closed tab.
      const request = httpRequest(`${chat.url}/v1/widget/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-widget-key': owner.key },
      });
      request.end(JSON.stringify({ message: 'q' }));
      const [response] = (await once(request, 'response')) as [IncomingMessage];
      let seen = '';
      for await (const chunk of response) {
        seen += (chunk as Buffer).toString('utf8');
        if (seen.includes('event: delta')) break;
      }
      const conversationId = (JSON.parse(/event: conversation\ndata: (.*)\n/.exec(seen)![1]!) as { conversationId: string }).conversationId;
      request.destroy();
      const closed = await chat.fake.nextClientClose();
      t.ok(closed.clientClosedEarly, 'the upstream request was aborted');
      const [row] = await eventually(async () => {
        const rows = await assistantRows(conversationId);
        return rows.length > 0 ? rows : null;
      });
      t.equal(row!.status, 'aborted');
      t.ok(row!.content.length > 0 && 'one two three four five six seven eight'.startsWith(row!.content), 'what was streamed is stored');
    });
  });

  t.test(`no data loss under concurrency (${kind})`, async (t) => {
    const chat = await startChatApp(t, { kind });
    const owner = await createWidgetOwner(chat);
    chat.fake.script({ deltas: 5, tokenGapMs: 5 });
    const count = 20;
    const results = await Promise.all(
      Array.from({ length: count }, (_, index) =>
        index % 2 === 0
          ? chatStream(chat.url, owner.key, { message: `question ${index}` })
          : chat.app.inject({ method: 'POST', url: '/v1/widget/chat', headers: { 'x-widget-key': owner.key }, payload: { message: `question ${index}` } }),
      ),
    );
    t.ok(results.every((result) => ('status' in result ? result.status : result.statusCode) === 200), 'every chat succeeded');
    const rows = await chat.database.db.select().from(messages).where(eq(messages.configurationId, owner.configurationId));
    t.equal(rows.filter((row) => row.role === 'user').length, count);
    t.equal(rows.filter((row) => row.role === 'assistant' && row.status === 'complete').length, count);
  });
}
