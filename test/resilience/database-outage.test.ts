import { inArray } from 'drizzle-orm';
import postgres from 'postgres';
import t from 'tap';
import { messages } from '../../src/db/schema.js';
import { eventually, startChatApp } from '../chat/chat-client.js';
import { createWidgetOwner } from '../helpers/widget-fixtures.js';
import { acknowledged, type ChatOutcome, fixedRateLoad, postChat } from './resilience-client.js';

// Needs a real PostgreSQL whose connections can be cut: only with TEST_DATABASE_URL.
if (process.env.TEST_DATABASE_URL) {
  t.test('PostgreSQL goes away mid-load: 503 problems (never 500), /health/db says so, recovery by itself, nothing acknowledged is lost', async (t) => {
    const chat = await startChatApp(t, { kind: 'postgres', env: { RATE_LIMIT_VISITOR_PER_MINUTE: '100000', RATE_LIMIT_KEY_PER_MINUTE: '100000' } });
    const owner = await createWidgetOwner(chat);
    const databaseName = chat.database.location.split('/').pop()!;
    const admin = postgres(process.env.TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
    const allowConnections = (allow: boolean) => admin.unsafe(`alter database "${databaseName}" with allow_connections ${allow}`);
    t.teardown(async () => {
      await allowConnections(true).catch(() => {});
      await admin.end({ timeout: 5 });
    });
    const health = async () => (await chat.app.inject({ method: 'GET', url: '/health/db' })).statusCode;
    t.equal(await health(), 200);

    const healthDuringOutage: number[] = [];
    const run = Date.now().toString(36);
    // 20/s for 6 s; the database refuses and drops connections from 1.5 s to 3.5 s.
    const outcomes: ChatOutcome[] = await fixedRateLoad(
      {
        perSecond: 20,
        seconds: 6,
        onTick: async (index) => {
          if (index === 30) {
            await allowConnections(false);
            await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${databaseName} and pid <> pg_backend_pid()`;
          }
          if (index === 40 || index === 50 || index === 60) healthDuringOutage.push(await health());
          if (index === 70) await allowConnections(true);
        },
      },
      (index) => postChat(chat.url, owner.key, { message: `outage ${run}-${index}` }, { timeoutMs: 30_000 }),
    );

    const statuses = outcomes.map((outcome) => outcome.status);
    t.same(statuses.filter((status) => status !== 200 && status !== 503), [], 'every answer is 200 or 503 — never a 500, never unanswered');
    const refused = outcomes.filter((outcome) => outcome.status === 503);
    t.ok(refused.length > 0, `${refused.length} requests met the outage`);
    for (const outcome of refused) {
      t.match(outcome.contentType, /^application\/problem\+json/);
      t.match(outcome.json, { status: 503, code: 'DATABASE_UNAVAILABLE' });
    }
    t.ok(healthDuringOutage.includes(503), `/health/db answered 503 during the outage (${healthDuringOutage.join(', ')})`);

    await eventually(async () => (await health()) === 200, 100);
    t.pass('/health/db is back to 200 without a restart');
    const after = await postChat(chat.url, owner.key, { message: `after ${run}` });
    t.equal(after.status, 200, 'chat works again');

    const accepted = [...outcomes, after].filter((outcome) => outcome.status === 200);
    t.ok(accepted.length > 0);
    const storedQuestions = await chat.database.db
      .select({ content: messages.content })
      .from(messages)
      .where(inArray(messages.content, accepted.map((outcome) => outcome.message)));
    t.equal(storedQuestions.length, accepted.length, 'every acknowledged visitor message is stored');
    const ids = accepted.map((outcome) => acknowledged(outcome).messageId!);
    const storedAnswers = await chat.database.db.select({ id: messages.id }).from(messages).where(inArray(messages.id, ids));
    t.equal(storedAnswers.length, ids.length, 'every acknowledged answer is stored');
  });
}
