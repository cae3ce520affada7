import { inArray } from 'drizzle-orm';
import t from 'tap';
import { messages } from '../../src/db/schema.js';
import { startChatApp } from '../chat/chat-client.js';
import { databaseKinds } from '../helpers/app.js';
import { createWidgetOwner } from '../helpers/widget-fixtures.js';
import { acknowledged, answerText, fixedRateLoad, postChat } from './resilience-client.js';

const PER_SECOND = 20;
const SECONDS = 10;

for (const kind of databaseKinds()) {
  t.test(`${PER_SECOND} chats/s for ${SECONDS} s: no 5xx, every accepted message and answer stored (${kind})`, async (t) => {
    const chat = await startChatApp(t, { kind, env: { RATE_LIMIT_VISITOR_PER_MINUTE: '100000', RATE_LIMIT_KEY_PER_MINUTE: '100000' } });
    const owner = await createWidgetOwner(chat);
    chat.fake.script({ reply: 'We open at nine and close at five.', deltas: 4, tokenGapMs: 5 });
    const run = Date.now().toString(36);

    // Every other request streams; every fourth continues the previous conversation of its visitor.
    const outcomes = await fixedRateLoad({ perSecond: PER_SECOND, seconds: SECONDS }, (index) =>
      postChat(chat.url, owner.key, { message: `question ${run}-${index}`, visitorId: `visitor-${run}-${index % 7}` }, { stream: index % 2 === 1 }),
    );

    const statuses = outcomes.map((outcome) => outcome.status);
    t.equal(outcomes.length, PER_SECOND * SECONDS);
    t.same(statuses.filter((status) => status === 0 || status >= 500), [], 'no 5xx and no unanswered request');
    const accepted = outcomes.filter((outcome) => outcome.status >= 200 && outcome.status < 300);
    t.equal(accepted.length, outcomes.length, 'every chat accepted under the raised limits');
    const answered = accepted.filter((outcome) => acknowledged(outcome).messageId);
    t.equal(answered.length, accepted.length, 'every accepted chat finished with an answer');

    const storedQuestions = await chat.database.db
      .select({ content: messages.content })
      .from(messages)
      .where(inArray(messages.content, accepted.map((outcome) => outcome.message)));
    t.equal(storedQuestions.length, accepted.length, 'every accepted visitor message is stored');
    const ids = answered.map((outcome) => acknowledged(outcome).messageId!);
    const storedAnswers = await chat.database.db
      .select({ id: messages.id, content: messages.content, status: messages.status })
      .from(messages)
      .where(inArray(messages.id, ids));
    t.equal(storedAnswers.length, ids.length, 'every acknowledged answer is stored');
    const byId = new Map(storedAnswers.map((row) => [row.id, row]));
    t.ok(
      answered.every((outcome) => {
        const row = byId.get(acknowledged(outcome).messageId!);
        return row?.status === 'complete' && row.content === answerText(outcome);
      }),
      'each stored answer is the text the visitor received',
    );
  });
}
