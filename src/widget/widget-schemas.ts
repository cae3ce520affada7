import { z } from 'zod';
import { uuidPattern } from '../chat/chat-service.js';


/** Widget keys look like pk_ + nanoid; anything else is refused before any lookup. */
export const widgetKeyPattern = /^pk_[A-Za-z0-9_-]{1,100}$/;

export const visitorIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'visitorId is 8 to 64 letters, digits, _ or -')
  .describe('Random id the widget keeps for this visitor; generated and returned when absent');

// NUL cannot be stored in PostgreSQL text, and other C0 controls are never meaningful in a question.
const stripControls = (text: string) => text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '');

export const chatBodySchema = (maxChars: number) =>
  z
    .object({
      message: z
        .string()
        .transform((text) => stripControls(text).trim())
        .pipe(z.string().min(1, 'message must not be empty').max(maxChars, `message must be at most ${maxChars} characters`))
        .describe(`The visitor's question, 1..${maxChars} characters after trimming`),
      conversationId: z
        .string()
        .regex(uuidPattern, 'conversationId is the id returned by an earlier answer')
        .optional()
        .describe('Continue this conversation (a conversation that is not this visitor\'s starts a new one)'),
      visitorId: visitorIdSchema.optional(),
    })
    .meta({ id: 'WidgetChatRequest' });

export const widgetKeyQuerySchema = z.object({
  key: z.string().optional().describe('The widget key, when not sent in X-Widget-Key (lets the widget send simple CORS requests)'),
});

export const widgetConfigSchema = z
  .object({ color: z.string(), title: z.string(), greeting: z.string() })
  .meta({ id: 'WidgetConfig' });

export const chatAnswerSchema = z
  .object({
    conversationId: z.string(),
    visitorId: z.string(),
    messageId: z.string(),
    answer: z.string(),
  })
  .meta({ id: 'WidgetChatAnswer' });

export const transcriptSchema = z
  .object({
    conversationId: z.string(),
    messages: z.array(
      z.object({
        id: z.string(),
        role: z.enum(['user', 'assistant']),
        content: z.string(),
        status: z.enum(['complete', 'partial', 'aborted', 'failed']),
        createdAt: z.iso.datetime(),
      }),
    ),
  })
  .meta({ id: 'WidgetTranscript' });

export const CHAT_SSE_DESCRIPTION = [
  'With `Accept: text/event-stream` the 200 response is a Server-Sent Events stream (`text/event-stream`):',
  '`event: conversation` `{conversationId, visitorId}` first, then `event: delta` `{text}` for each piece of the answer,',
  'then `event: done` `{messageId}` — or, if the assistant fails after the stream started, `event: error` `{code, message}`',
  '(code `UPSTREAM_UNAVAILABLE`, `UPSTREAM_TIMEOUT` or `INTERNAL`). Lines starting with `:` are keep-alive comments.',
  'Without that Accept header the answer is this JSON body.',
].join(' ');
