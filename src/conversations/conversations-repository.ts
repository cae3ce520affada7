import { and, asc, desc, eq, gte, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { configurations, conversations, messages } from '../db/schema.js';

/** Keyset position: the full-precision created_at text (microseconds) and the id. */
export interface ConversationCursor {
  createdAt: string;
  id: string;
}

const conversationColumns = {
  id: conversations.id,
  visitorId: conversations.visitorId,
  origin: conversations.origin,
  createdAt: conversations.createdAt,
  lastMessageAt: conversations.lastMessageAt,
};

const roleOrder = sql`case when ${messages.role} = 'assistant' then 1 else 0 end`;

/** Owner-side reads over conversations, messages and usage; every query is scoped to one configuration. */
export const createConversationsRepository = (db: Database) => ({
  async findConfigurationId(userId: string): Promise<string | null> {
    const [row] = await db.select({ id: configurations.id }).from(configurations).where(eq(configurations.userId, userId)).limit(1);
    return row?.id ?? null;
  },

  /** Newest first; `limit` rows after the cursor. */
  async listConversations(configurationId: string, limit: number, after: ConversationCursor | null) {
    const position = after
      ? sql`(${conversations.createdAt}, ${conversations.id}) < (${after.createdAt}::timestamptz, ${after.id})`
      : undefined;
    return db
      .select({
        ...conversationColumns,
        // Text keeps PostgreSQL's microseconds, which a JS Date would drop (and break the keyset).
        cursorCreatedAt: sql<string>`${conversations.createdAt}::text`,
        // Spelled out: drizzle renders columns unqualified inside select fields, which a correlated subquery cannot use.
        messageCount: sql<number>`(select count(*) from "messages" m where m."conversation_id" = "conversations"."id")::int`,
      })
      .from(conversations)
      .where(and(eq(conversations.configurationId, configurationId), position))
      .orderBy(desc(conversations.createdAt), desc(conversations.id))
      .limit(limit);
  },

  async findConversation(configurationId: string, conversationId: string) {
    const [conversation] = await db
      .select(conversationColumns)
      .from(conversations)
      .where(and(eq(conversations.id, conversationId), eq(conversations.configurationId, configurationId)))
      .limit(1);
    if (!conversation) return null;
    const rows = await db
      .select({
        id: messages.id,
        role: messages.role,
        content: messages.content,
        status: messages.status,
        model: messages.model,
        promptTokens: messages.promptTokens,
        completionTokens: messages.completionTokens,
        createdAt: messages.createdAt,
      })
      .from(messages)
      .where(eq(messages.conversationId, conversationId))
      .orderBy(asc(messages.createdAt), asc(roleOrder));
    return { ...conversation, messages: rows };
  },

  /** Per UTC day since `since`: visitor messages, answers, tokens; and conversations started. */
  async dailyUsage(configurationId: string, since: Date) {
    const messageDay = sql<string>`to_char(${messages.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
    const messageRows = await db
      .select({
        date: messageDay,
        messages: sql<number>`count(*) filter (where ${messages.role} = 'user')::int`,
        answers: sql<number>`count(*) filter (where ${messages.role} = 'assistant' and ${messages.status} <> 'failed')::int`,
        promptTokens: sql<number>`coalesce(sum(${messages.promptTokens}), 0)::int`,
        completionTokens: sql<number>`coalesce(sum(${messages.completionTokens}), 0)::int`,
      })
      .from(messages)
      .where(and(eq(messages.configurationId, configurationId), gte(messages.createdAt, since)))
      .groupBy(messageDay);
    const conversationDay = sql<string>`to_char(${conversations.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
    const conversationRows = await db
      .select({ date: conversationDay, conversations: sql<number>`count(*)::int` })
      .from(conversations)
      .where(and(eq(conversations.configurationId, configurationId), gte(conversations.createdAt, since)))
      .groupBy(conversationDay);
    return { messageRows, conversationRows };
  },
});

export type ConversationsRepository = ReturnType<typeof createConversationsRepository>;
