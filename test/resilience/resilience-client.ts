/** Helpers shared by the resilience tests: bounded requests against a listening app, fixed-rate load. */
import { parseSse, type SseEvent } from '../chat/chat-client.js';
import { postWithTimeout } from '../support/http-post.js';

export interface ChatOutcome {
  /** HTTP status, or 0 when the request never got an answer (connection refused, reset, client timeout). */
  status: number;
  contentType: string;
  /** Parsed JSON (problem or answer) in JSON mode. */
  json?: Record<string, unknown>;
  /** Parsed events in SSE mode. */
  events?: SseEvent[];
  error?: string;
  message: string;
}

/**
 * POSTs one chat question with node:http and `Connection: close` (so the app's open
 * connection count reflects in-flight requests only), bounded by timeoutMs.
 */
export const postChat = async (
  baseUrl: string,
  key: string,
  body: { message: string; conversationId?: string; visitorId?: string },
  options: { stream?: boolean; timeoutMs?: number } = {},
): Promise<ChatOutcome> => {
  const response = await postWithTimeout(`${baseUrl}/v1/widget/chat`, JSON.stringify(body), {
    agent: false,
    headers: {
      connection: 'close',
      'content-type': 'application/json',
      'x-widget-key': key,
      ...(options.stream ? { accept: 'text/event-stream' } : {}),
    },
    timeoutMs: options.timeoutMs ?? 30_000,
  });
  const outcome: ChatOutcome = { status: response.status, contentType: response.contentType, message: body.message };
  if (response.error) outcome.error = response.error;
  if (response.contentType.startsWith('text/event-stream')) outcome.events = parseSse(response.body);
  else if (response.body) {
    try {
      outcome.json = JSON.parse(response.body) as Record<string, unknown>;
    } catch {
      outcome.error ??= `not JSON: ${response.body.slice(0, 200)}`;
    }
  }
  return outcome;
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Starts `perSecond` requests per second for `seconds` seconds (a fixed arrival rate, not
 * closed-loop: a slow server does not slow the load down), then waits for all of them.
 * `onTick(index)` runs before each request is sent.
 */
export const fixedRateLoad = async <T>(
  options: { perSecond: number; seconds: number; onTick?: (index: number) => Promise<void> | void },
  send: (index: number) => Promise<T>,
): Promise<T[]> => {
  const total = options.perSecond * options.seconds;
  const gapMs = 1000 / options.perSecond;
  const started = performance.now();
  const inFlight: Array<Promise<T>> = [];
  for (let index = 0; index < total; index++) {
    const wait = started + index * gapMs - performance.now();
    if (wait > 0) await sleep(wait);
    await options.onTick?.(index);
    inFlight.push(send(index));
  }
  return Promise.all(inFlight);
};

/** The text of the answer: `answer` in JSON mode, the deltas joined in SSE mode. */
export const answerText = (outcome: ChatOutcome): string =>
  outcome.events
    ? outcome.events.filter((event) => event.event === 'delta').map((event) => (event.data as { text: string }).text).join('')
    : String(outcome.json?.answer ?? '');

/** conversationId and, when the answer completed, messageId — from either mode. */
export const acknowledged = (outcome: ChatOutcome): { conversationId?: string; messageId?: string } => {
  if (outcome.events) {
    const conversation = outcome.events.find((event) => event.event === 'conversation')?.data as { conversationId?: string } | undefined;
    const done = outcome.events.find((event) => event.event === 'done')?.data as { messageId?: string } | undefined;
    return { ...(conversation?.conversationId ? { conversationId: conversation.conversationId } : {}), ...(done?.messageId ? { messageId: done.messageId } : {}) };
  }
  const json = outcome.json ?? {};
  return {
    ...(typeof json.conversationId === 'string' ? { conversationId: json.conversationId } : {}),
    ...(typeof json.messageId === 'string' ? { messageId: json.messageId } : {}),
  };
};
