import { eq } from 'drizzle-orm';
import t from 'tap';
import { conversations, messages } from '../../src/db/schema.js';
import { buildTestApp, databaseKinds } from '../helpers/app.js';
import { createOwnerSession, createWidgetOwner } from '../helpers/widget-fixtures.js';
import { startFakeOpenAi } from '../support/fake-openai.js';

for (const kind of databaseKinds()) {
  t.test(`owner conversation views and usage (${kind})`, async (t) => {
    const fake = await startFakeOpenAi({ usage: { prompt_tokens: 100, completion_tokens: 10 } });
    t.teardown(() => fake.close());
    const testApp = await buildTestApp(t, { kind, env: { OPENAI_BASE_URL: `${fake.url}/v1` } });
    const { app, database } = testApp;
    const owner = await createWidgetOwner(testApp);
    const other = await createWidgetOwner(testApp);
    const token = await createOwnerSession(testApp, owner.userId);
    const otherToken = await createOwnerSession(testApp, other.userId);
    const auth = (bearer: string) => ({ authorization: `Bearer ${bearer}` });

    const chat = (key: string, body: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: '/v1/widget/chat', headers: { 'x-widget-key': key, origin: 'https://shop.example' }, payload: body });
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      const answer = (await chat(owner.key, { message: `question ${index}` })).json();
      ids.push(answer.conversationId);
      if (index === 0) await chat(owner.key, { message: 'follow-up', conversationId: answer.conversationId, visitorId: answer.visitorId });
    }
    await chat(other.key, { message: 'the other tenant' });

    t.test('list: newest first, paged by an opaque cursor', async (t) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/v1/conversations?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const response = await app.inject({ method: 'GET', url, headers: auth(token) });
        t.equal(response.statusCode, 200);
        const page: { items: Array<{ id: string }>; nextCursor: string | null } = response.json();
        t.ok(page.items.length <= 2);
        seen.push(...page.items.map((item: { id: string }) => item.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      t.same(seen, [...ids].reverse(), 'every conversation once, newest first');
      const first = (await app.inject({ method: 'GET', url: '/v1/conversations', headers: auth(token) })).json();
      t.match(first.items.at(-1), { id: ids[0], visitorId: /^v_/, origin: 'https://shop.example', createdAt: String, lastMessageAt: String, messageCount: 4 });
      t.equal(first.nextCursor, null);
    });

    t.test('list: bad parameters and no session', async (t) => {
      for (const query of ['limit=0', 'limit=101', 'limit=abc', 'cursor=garbage', `cursor=${Buffer.from("x'|y").toString('base64url')}`]) {
        const response = await app.inject({ method: 'GET', url: `/v1/conversations?${query}`, headers: auth(token) });
        t.equal(response.statusCode, 400, query);
        t.match(response.headers['content-type'], /problem\+json/);
      }
      t.equal((await app.inject({ method: 'GET', url: '/v1/conversations' })).statusCode, 401);
      t.equal((await app.inject({ method: 'GET', url: '/v1/usage' })).statusCode, 401);
    });

    t.test('one conversation with its messages; never another owner\'s', async (t) => {
      const response = await app.inject({ method: 'GET', url: `/v1/conversations/${ids[0]}`, headers: auth(token) });
      t.equal(response.statusCode, 200);
      const detail = response.json();
      t.same(
        detail.messages.map((message: { role: string; status: string }) => [message.role, message.status]),
        [
          ['user', 'complete'],
          ['assistant', 'complete'],
          ['user', 'complete'],
          ['assistant', 'complete'],
        ],
      );
      t.match(detail.messages[1], { promptTokens: 100, completionTokens: 10, model: 'gpt-4o-mini' });

      const foreign = await app.inject({ method: 'GET', url: `/v1/conversations/${ids[0]}`, headers: auth(otherToken) });
      const missing = await app.inject({ method: 'GET', url: '/v1/conversations/00000000-0000-4000-8000-000000000000', headers: auth(otherToken) });
      const junk = await app.inject({ method: 'GET', url: '/v1/conversations/not-a-uuid', headers: auth(token) });
      t.equal(foreign.statusCode, 404);
      t.same(foreign.json(), missing.json());
      t.equal(junk.statusCode, 404);
      const theirs = (await app.inject({ method: 'GET', url: '/v1/conversations', headers: auth(otherToken) })).json();
      t.equal(theirs.items.length, 1, 'each owner lists only their own');
    });

    t.test('usage per UTC day, zero-filled', async (t) => {
      // One conversation from three days ago, to see it land on its own day.
      const old = new Date(Date.now() - 3 * 24 * 60 * 60 * 1000);
      await database.db.update(conversations).set({ createdAt: old }).where(eq(conversations.id, ids[1]!));
      await database.db.update(messages).set({ createdAt: old }).where(eq(messages.conversationId, ids[1]!));

      const response = await app.inject({ method: 'GET', url: '/v1/usage?days=7', headers: auth(token) });
      t.equal(response.statusCode, 200);
      const usage = response.json();
      t.equal(usage.days.length, 7);
      const today = new Date().toISOString().slice(0, 10);
      t.equal(usage.to, today);
      t.match(usage.days.at(-1), { date: today, conversations: 4, messages: 5, answers: 5, promptTokens: 500, completionTokens: 50 });
      t.match(usage.days.at(-4), { date: old.toISOString().slice(0, 10), conversations: 1, messages: 1, promptTokens: 100 });
      t.equal(usage.days.filter((day: { messages: number }) => day.messages === 0).length, 5, 'empty days are present with zeros');
      t.match(usage.totals, { conversations: 5, messages: 6, answers: 6, promptTokens: 600, completionTokens: 60 });

      t.equal((await app.inject({ method: 'GET', url: '/v1/usage', headers: auth(token) })).json().days.length, 30, 'default 30 days');
      for (const days of ['0', '366', 'x']) {
        t.equal((await app.inject({ method: 'GET', url: `/v1/usage?days=${days}`, headers: auth(token) })).statusCode, 400);
      }
    });
  });
}
