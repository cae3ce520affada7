import { and, asc, count, desc, eq, gte, ne, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { conversations, messages, type Message } from '../db/schema.js';

export type NewAssistantMessage = Pick<Message, 'id' | 'content' | 'status' | 'model' | 'promptTokens' | 'completionTokens'>;

/** Queries behind the visitor chat: conversations, their messages, today's count. */
export const createChatRepository = (db: Database) => ({
  async findConversation(configurationId: string, conversationId: string, visitorId: string) {
    const [row] = await db
      .select({ id: conversations.id })
      .from(conversations)
      .where(and(eq(conversations.id, conversationId), eq(conversations.configurationId, configurationId), eq(conversations.visitorId, visitorId)))
      .limit(1);
    return row ?? null;
  },

  async createConversation(input: { configurationId: string; visitorId: string; origin: string | null }) {
    const [row] = await db.insert(conversations).values(input).returning({ id: conversations.id });
    return row!;
  },

  /** The last `limit` messages with text, oldest first, for the prompt. */
  async recentMessages(conversationId: string, limit: number) {
    if (limit <= 0) return [];
    const rows = await db
      .select({ role: messages.role, content: messages.content })
      .from(messages)
      .where(and(eq(messages.conversationId, conversationId), ne(messages.status, 'failed'), ne(messages.content, '')))
      .orderBy(desc(messages.createdAt), desc(sql`case when ${messages.role} = 'assistant' then 1 else 0 end`))
      .limit(limit);
    return rows.reverse();
  },

  async insertUserMessage(input: { conversationId: string; configurationId: string; content: string }) {
    const [row] = await db
      .insert(messages)
      .values({ ...input, role: 'user', status: 'complete' })
      .returning({ id: messages.id, createdAt: messages.createdAt });
    await db.update(conversations).set({ lastMessageAt: row!.createdAt }).where(eq(conversations.id, input.conversationId));
    return row!;
  },

  async insertAssistantMessage(input: NewAssistantMessage & { conversationId: string; configurationId: string }) {
    const [row] = await db.insert(messages).values({ ...input, role: 'assistant' }).returning({ id: messages.id, createdAt: messages.createdAt });
    await db.update(conversations).set({ lastMessageAt: row!.createdAt }).where(eq(conversations.id, input.conversationId));
    return row!;
  },

  /** Visitor messages accepted for the configuration since `since` (the daily cap). */
  async countUserMessagesSince(configurationId: string, since: Date) {
    const [row] = await db
      .select({ total: count() })
      .from(messages)
      .where(and(eq(messages.configurationId, configurationId), eq(messages.role, 'user'), gte(messages.createdAt, since)));
    return row?.total ?? 0;
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
      .orderBy(asc(messages.createdAt), asc(sql`case when ${messages.role} = 'assistant' then 1 else 0 end`));
    return { conversation, messages: rows };
  },
});

export type ChatRepository = ReturnType<typeof createChatRepository>;
