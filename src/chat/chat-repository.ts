import { and, asc, eq, ne, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { conversations, messages, type Message } from '../db/schema.js';

export type NewAssistantMessage = Pick<Message, 'content' | 'status' | 'model' | 'promptTokens' | 'completionTokens'>;

export interface OpenTurnInput {
  configurationId: string;
  /** Continue this conversation when it is this visitor's (in this configuration); otherwise a new one starts. */
  conversationId: string | null;
  visitorId: string;
  origin: string | null;
  content: string;
  /** How many earlier messages with text to return for the prompt. */
  historyLimit: number;
  /** The daily cap: refuse (store nothing) when `limit` visitor messages were accepted since `since`. */
  cap: { limit: number; since: Date } | null;
}

export type OpenTurnResult =
  | { capped: true }
  | { capped: false; conversationId: string; history: Array<{ role: 'user' | 'assistant'; content: string }> };

/** postgres.js answers db.execute with the rows; PGlite with { rows }. */
const executeRows = async <Row>(db: Database, query: SQL): Promise<Row[]> => {
  // The result type is the driver's (a row list or a query result); both shapes are read below.
  const result = (await db.execute(query)) as unknown as Row[] | { rows: Row[] };
  return Array.isArray(result) ? result : result.rows;
};

const roleOrder = sql`case when ${messages.role} = 'assistant' then 1 else 0 end`;

/** Queries behind the visitor chat: conversations, their messages, today's count. */
export const createChatRepository = (db: Database) => ({
  /**
   * One statement, one round trip: checks the daily cap, continues the visitor's conversation
   * (bumping last_message_at) or opens a new one, stores the visitor's message, and returns
   * the history from before that message (all sub-statements share one snapshot).
   */
  async openTurn(input: OpenTurnInput): Promise<OpenTurnResult> {
    const underCap = input.cap
      ? sql`(select count(*) from ${messages} where ${messages.configurationId} = ${input.configurationId} and ${messages.role} = 'user' and ${messages.createdAt} >= ${input.cap.since.toISOString()}::timestamptz) < ${input.cap.limit}`
      : sql`true`;
    const [row] = await executeRows<{ conversation_id: string; history: string }>(
      db,
      sql`with allowed as (select ${underCap} as ok),
existing as (
  update ${conversations} set "last_message_at" = now()
  where "id" = ${input.conversationId}::text and "configuration_id" = ${input.configurationId} and "visitor_id" = ${input.visitorId}
    and (select ok from allowed)
  returning "id"
),
created as (
  insert into ${conversations} ("configuration_id", "visitor_id", "origin")
  select ${input.configurationId}, ${input.visitorId}, ${input.origin}::text
  where not exists (select 1 from existing) and (select ok from allowed)
  returning "id"
),
conversation as (select "id" from existing union all select "id" from created),
stored as (
  insert into ${messages} ("conversation_id", "configuration_id", "role", "content", "status")
  select "id", ${input.configurationId}, 'user', ${input.content}, 'complete' from conversation
  returning "conversation_id"
)
select stored."conversation_id",
  (select coalesce(json_agg(json_build_object('role', h."role", 'content', h."content") order by h."created_at", h.role_order), '[]')::text
   from (
     select m."role", m."content", m."created_at", case when m."role" = 'assistant' then 1 else 0 end as role_order
     from ${messages} m
     where m."conversation_id" = (select "id" from existing) and m."status" <> 'failed' and m."content" <> ''
     order by m."created_at" desc, role_order desc
     limit ${Math.max(0, input.historyLimit)}
   ) h) as history
from stored`,
    );
    if (!row) {
      // Nothing stored: only the cap can refuse (a conversation is always continued or opened).
      if (input.cap) return { capped: true };
      throw new Error('openTurn stored no message');
    }
    return { capped: false, conversationId: row.conversation_id, history: JSON.parse(row.history) as Array<{ role: 'user' | 'assistant'; content: string }> };
  },

  /** Stores the answer and bumps the conversation's last_message_at in one statement. */
  async insertAssistantMessage(input: NewAssistantMessage & { conversationId: string; configurationId: string }) {
    const [row] = await executeRows<{ id: string }>(
      db,
      sql`with stored as (
  insert into ${messages} ("conversation_id", "configuration_id", "role", "content", "status", "model", "prompt_tokens", "completion_tokens")
  values (${input.conversationId}, ${input.configurationId}, 'assistant', ${input.content}, ${input.status}, ${input.model}::text, ${input.promptTokens}::integer, ${input.completionTokens}::integer)
  returning "id", "created_at"
),
bumped as (update ${conversations} set "last_message_at" = stored."created_at" from stored where ${conversations.id} = ${input.conversationId})
select "id" from stored`,
    );
    return row!;
  },

  /** The conversation's messages for the visitor who owns it; null when it is not theirs (or does not exist). */
  async visitorTranscript(configurationId: string, conversationId: string, visitorId: string) {
    const [conversation] = await db
      .select({ id: conversations.id, createdAt: conversations.createdAt })
      .from(conversations)
      .where(and(eq(conversations.id, conversationId), eq(conversations.configurationId, configurationId), eq(conversations.visitorId, visitorId)))
      .limit(1);
    if (!conversation) return null;
    const rows = await db
      .select({ id: messages.id, role: messages.role, content: messages.content, status: messages.status, createdAt: messages.createdAt })
      .from(messages)
      .where(and(eq(messages.conversationId, conversationId), ne(messages.status, 'failed')))
      .orderBy(asc(messages.createdAt), asc(roleOrder));
    return { conversation, messages: rows };
  },
});

export type ChatRepository = ReturnType<typeof createChatRepository>;
