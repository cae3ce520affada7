/** Helpers shared by the resilience tests: bounded requests against a listening app, fixed-rate load. */
import { request } from 'node:http';
import { parseSse, type SseEvent } from '../chat/chat-client.js';

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
export const postChat = (
  baseUrl: string,
  key: string,
  body: { message: string; conversationId?: string; visitorId?: string },
  options: { stream?: boolean; timeoutMs?: number } = {},
): Promise<ChatOutcome> =>
  new Promise((resolve) => {
    const payload = JSON.stringify(body);
    const outcome: ChatOutcome = { status: 0, contentType: '', message: body.message };
    let text = '';
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) outcome.error = error;
      if (outcome.contentType.startsWith('text/event-stream')) outcome.events = parseSse(text);
      else if (text) {
        try {
          outcome.json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          outcome.error ??= `not JSON: ${text.slice(0, 200)}`;
        }
      }
      resolve(outcome);
    };
    const req = request(
      `${baseUrl}/v1/widget/chat`,
      {
        method: 'POST',
        agent: false,
        headers: {
          connection: 'close',
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          'x-widget-key': key,
          ...(options.stream ? { accept: 'text/event-stream' } : {}),
        },
      },
      (res) => {
        outcome.status = res.statusCode ?? 0;
        outcome.contentType = String(res.headers['content-type'] ?? '');
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => finish());
        res.on('error', (error) => finish(error.message));
        res.on('aborted', () => finish('aborted'));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish('client timeout');
    }, options.timeoutMs ?? 30_000);
    req.on('error', (error) => finish(error.message));
    req.end(payload);
  });

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
