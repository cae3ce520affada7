import { z } from 'zod';

export const listConversationsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('Page size, 1..100 (default 20)'),
  cursor: z.string().max(200).optional().describe('nextCursor from the previous page (opaque)'),
});

const messageStatus = z.enum(['complete', 'partial', 'aborted', 'failed']).describe(
  'complete; partial (the upstream broke after the first token); aborted (the visitor left mid-answer); failed (no answer)',
);

export const conversationSummarySchema = z
  .object({
    id: z.string(),
    visitorId: z.string(),
    origin: z.string().nullable(),
    createdAt: z.iso.datetime(),
    lastMessageAt: z.iso.datetime(),
    messageCount: z.number().int(),
  })
  .meta({ id: 'ConversationSummary' });

export const conversationPageSchema = z
  .object({ items: z.array(conversationSummarySchema), nextCursor: z.string().nullable() })
  .meta({ id: 'ConversationPage' });

export const conversationDetailSchema = conversationSummarySchema
  .omit({ messageCount: true })
  .extend({
    messages: z.array(
      z.object({
        id: z.string(),
        role: z.enum(['user', 'assistant']),
        content: z.string(),
        status: messageStatus,
        model: z.string().nullable(),
        promptTokens: z.number().int().nullable(),
        completionTokens: z.number().int().nullable(),
        createdAt: z.iso.datetime(),
      }),
    ),
  })
  .meta({ id: 'ConversationDetail' });

export const usageQuerySchema = z.object({
  days: z.coerce.number().int().min(1).max(365).default(30).describe('How many UTC days, today included (1..365, default 30)'),
});

const usageCounts = {
  conversations: z.number().int().describe('Conversations started'),
  messages: z.number().int().describe('Visitor messages (what the daily cap counts)'),
  answers: z.number().int().describe('Assistant answers stored (complete, partial or aborted)'),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
};

export const usageSchema = z
  .object({
    from: z.iso.date(),
    to: z.iso.date(),
    days: z.array(z.object({ date: z.iso.date(), ...usageCounts })).describe('One entry per UTC day, oldest first, zero-filled'),
    totals: z.object(usageCounts),
  })
  .meta({ id: 'Usage' });
