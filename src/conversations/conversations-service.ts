import { uuidPattern } from '../chat/chat-service.js';
import { AppError } from '../errors.js';
import type { ConversationCursor, ConversationsRepository } from './conversations-repository.js';

const DAY_MS = 24 * 60 * 60 * 1000;
// What PostgreSQL prints for timestamptz::text, e.g. 2026-01-01 12:00:00.123456+00.
const pgTimestamp = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}$/;

export const encodeCursor = (cursor: ConversationCursor): string => Buffer.from(`${cursor.createdAt}|${cursor.id}`, 'utf8').toString('base64url');

/** The cursor back, or a 400: a cursor is opaque, but a forged one must not reach the database as SQL errors. */
export const decodeCursor = (value: string): ConversationCursor => {
  const [createdAt, id, ...rest] = Buffer.from(value, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !createdAt || !id || !pgTimestamp.test(createdAt) || !uuidPattern.test(id)) {
    throw new AppError('VALIDATION_FAILED', 'cursor is not a nextCursor returned by this endpoint');
  }
  return { createdAt, id };
};

const isoDay = (date: Date): string => date.toISOString().slice(0, 10);

/** Owner views: conversations (paged), one conversation, daily usage. Always scoped to the owner's configuration. */
export const createConversationsService = (deps: { repository: ConversationsRepository }) => {
  const { repository } = deps;
  return {
    async list(userId: string, options: { limit: number; cursor?: string | undefined }) {
      const after = options.cursor ? decodeCursor(options.cursor) : null;
      const configurationId = await repository.findConfigurationId(userId);
      if (!configurationId) return { items: [], nextCursor: null };
      const rows = await repository.listConversations(configurationId, options.limit + 1, after);
      const page = rows.slice(0, options.limit);
      const last = page.at(-1);
      return {
        items: page.map(({ cursorCreatedAt: _cursor, ...row }) => ({
          ...row,
          createdAt: row.createdAt.toISOString(),
          lastMessageAt: row.lastMessageAt.toISOString(),
        })),
        nextCursor: rows.length > options.limit && last ? encodeCursor({ createdAt: last.cursorCreatedAt, id: last.id }) : null,
      };
    },

    async get(userId: string, conversationId: string) {
      const configurationId = await repository.findConfigurationId(userId);
      const conversation =
        configurationId && uuidPattern.test(conversationId) ? await repository.findConversation(configurationId, conversationId) : null;
      if (!conversation) throw new AppError('NOT_FOUND', 'No such conversation');
      return {
        ...conversation,
        createdAt: conversation.createdAt.toISOString(),
        lastMessageAt: conversation.lastMessageAt.toISOString(),
        messages: conversation.messages.map((message) => ({ ...message, createdAt: message.createdAt.toISOString() })),
      };
    },

    /** The last `days` UTC days, oldest first, today included, zero-filled. */
    async usage(userId: string, days: number, now = new Date()) {
      const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
      const since = new Date(today - (days - 1) * DAY_MS);
      const configurationId = await repository.findConfigurationId(userId);
      const { messageRows, conversationRows } = configurationId
        ? await repository.dailyUsage(configurationId, since)
        : { messageRows: [], conversationRows: [] };
      const byDay = new Map(messageRows.map((row) => [row.date, row]));
      const conversationsByDay = new Map(conversationRows.map((row) => [row.date, row.conversations]));
      const series = Array.from({ length: days }, (_, index) => {
        const date = isoDay(new Date(since.getTime() + index * DAY_MS));
        const row = byDay.get(date);
        return {
          date,
          conversations: conversationsByDay.get(date) ?? 0,
          messages: row?.messages ?? 0,
          answers: row?.answers ?? 0,
          promptTokens: row?.promptTokens ?? 0,
          completionTokens: row?.completionTokens ?? 0,
        };
      });
      const totals = series.reduce(
        (sum, day) => ({
          conversations: sum.conversations + day.conversations,
          messages: sum.messages + day.messages,
          answers: sum.answers + day.answers,
          promptTokens: sum.promptTokens + day.promptTokens,
          completionTokens: sum.completionTokens + day.completionTokens,
        }),
        { conversations: 0, messages: 0, answers: 0, promptTokens: 0, completionTokens: 0 },
      );
      return { from: series[0]!.date, to: series.at(-1)!.date, days: series, totals };
    },
  };
};

export type ConversationsService = ReturnType<typeof createConversationsService>;
