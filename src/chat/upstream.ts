import OpenAI, { APIConnectionTimeoutError, APIError } from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { AppConfig } from '../config.js';

/** Retries before the first token only; never after it (the visitor already saw text). */
export const MAX_UPSTREAM_RETRIES = 2;
/** Longest we wait before a retry, whatever Retry-After says: the visitor is waiting. */
export const MAX_RETRY_WAIT_MS = 5000;
const BASE_BACKOFF_MS = 250;

/**
 * Why an upstream call produced no (complete) answer. `ownerProblem` failures (bad key,
 * exhausted quota, a request the model refuses such as an unknown model) are the owner's
 * to fix: never retried, logged for the owner.
 */
export interface UpstreamFailure {
  code: 'UPSTREAM_UNAVAILABLE' | 'UPSTREAM_TIMEOUT';
  reason: 'invalid_key' | 'insufficient_quota' | 'rejected_request' | 'rate_limited' | 'server_error' | 'timeout' | 'connection_error';
  ownerProblem: boolean;
  retryable: boolean;
  /** Upstream HTTP status when there was one. */
  status?: number;
  /** Milliseconds the upstream asked us to wait (Retry-After), if any. */
  retryAfterMs?: number;
}

export interface UpstreamAnswer {
  /** complete: finished; partial: broke after the first token; aborted: the visitor left; failed: no text at all. */
  status: 'complete' | 'partial' | 'aborted' | 'failed';
  text: string;
  promptTokens: number | null;
  completionTokens: number | null;
  attempts: number;
  failure?: UpstreamFailure;
}

export interface AnswerRequest {
  apiKey: string;
  model: string;
  messages: ChatCompletionMessageParam[];
  /** Aborted when the visitor goes away. */
  signal: AbortSignal;
  onDelta(text: string): void;
  onRetry?(failure: UpstreamFailure, attempt: number, waitMs: number): void;
}

const parseRetryAfter = (headers: Headers | undefined): number | undefined => {
  if (!headers) return undefined;
  const millis = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(millis) && millis >= 0) return millis;
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
};

/** Sorts an upstream error into what we tell the visitor and whether a retry can help. */
export const classifyUpstreamError = (error: unknown, timedOut: boolean): UpstreamFailure => {
  if (timedOut || error instanceof APIConnectionTimeoutError) {
    return { code: 'UPSTREAM_TIMEOUT', reason: 'timeout', ownerProblem: false, retryable: true };
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    const retryAfterMs = parseRetryAfter(error.headers);
    const base = { code: 'UPSTREAM_UNAVAILABLE' as const, status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    if (status === 401 || status === 403) return { ...base, reason: 'invalid_key', ownerProblem: true, retryable: false };
    if (status === 429 && (error.code === 'insufficient_quota' || error.type === 'insufficient_quota')) {
      return { ...base, reason: 'insufficient_quota', ownerProblem: true, retryable: false };
    }
    if (status === 429) return { ...base, reason: 'rate_limited', ownerProblem: false, retryable: true };
    if (status === 408 || status === 409 || status >= 500) return { ...base, reason: 'server_error', ownerProblem: false, retryable: true };
    return { ...base, reason: 'rejected_request', ownerProblem: true, retryable: false };
  }
  if (error instanceof APIError) {
    // An error event inside the stream (no status): treat like a server error.
    return { code: 'UPSTREAM_UNAVAILABLE', reason: 'server_error', ownerProblem: false, retryable: true };
  }
  return { code: 'UPSTREAM_UNAVAILABLE', reason: 'connection_error', ownerProblem: false, retryable: true };
};

const backoffMs = (failure: UpstreamFailure, retry: number): number => {
  if (failure.retryAfterMs !== undefined) return Math.min(failure.retryAfterMs, MAX_RETRY_WAIT_MS);
  const exponential = BASE_BACKOFF_MS * 2 ** (retry - 1);
  return Math.min(MAX_RETRY_WAIT_MS, Math.round(exponential * (0.75 + Math.random() * 0.5)));
};

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Calls the owner's model through any OpenAI-compatible server, always streaming, with
 * our own retry policy (the SDK's is off) and a timeout that covers the wait for each chunk,
 * not only for the response headers.
 */
export const createUpstreamClient = (config: Pick<AppConfig, 'OPENAI_BASE_URL' | 'OPENAI_TIMEOUT_MS' | 'OPENAI_MAX_OUTPUT_TOKENS'>) => {
  const timeoutMs = config.OPENAI_TIMEOUT_MS;

  const attempt = async (request: AnswerRequest, client: OpenAI, sink: { text: string; sawToken: boolean }) => {
    const controller = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
    };
    const onVisitorGone = () => controller.abort();
    request.signal.addEventListener('abort', onVisitorGone, { once: true });
    let promptTokens: number | null = null;
    let completionTokens: number | null = null;
    let finished = false;
    try {
      arm();
      const stream = await client.chat.completions.create(
        {
          model: request.model,
          messages: request.messages,
          stream: true,
          stream_options: { include_usage: true },
          max_completion_tokens: config.OPENAI_MAX_OUTPUT_TOKENS,
        },
        { signal: controller.signal, headers: { Authorization: `Bearer ${request.apiKey}` } },
      );
      for await (const chunk of stream) {
        arm();
        if (chunk.usage) {
          promptTokens = chunk.usage.prompt_tokens;
          completionTokens = chunk.usage.completion_tokens;
          finished = true;
        }
        const choice = chunk.choices[0];
        const content = choice?.delta?.content;
        if (content) {
          sink.text += content;
          sink.sawToken = true;
          request.onDelta(content);
        }
        if (choice?.finish_reason) finished = true;
      }
      // The SDK ends the iteration quietly on abort; a stream that stops without finishing was cut.
      if (controller.signal.aborted) return { ok: false as const, error: undefined, timedOut };
      if (!finished) return { ok: false as const, error: new Error('upstream stream ended early'), timedOut: false };
      return { ok: true as const, promptTokens, completionTokens };
    } catch (error) {
      return { ok: false as const, error, timedOut };
    } finally {
      clearTimeout(timer);
      request.signal.removeEventListener('abort', onVisitorGone);
    }
  };

  // One SDK client for every owner (building one per call showed in the profile). It holds no key:
  // each call sends the owner's freshly decrypted key in its own Authorization header, so the key
  // lives only as long as the call (PRODUCT: "decrypted only for the call").
  const client = new OpenAI({ apiKey: 'set-per-request', baseURL: config.OPENAI_BASE_URL, maxRetries: 0, timeout: timeoutMs });

  return {
    async streamAnswer(request: AnswerRequest): Promise<UpstreamAnswer> {
      const sink = { text: '', sawToken: false };
      for (let attempts = 1; ; attempts++) {
        const result = await attempt(request, client, sink);
        if (result.ok) {
          return { status: 'complete', text: sink.text, promptTokens: result.promptTokens, completionTokens: result.completionTokens, attempts };
        }
        if (request.signal.aborted) return { status: 'aborted', text: sink.text, promptTokens: null, completionTokens: null, attempts };
        const failure = classifyUpstreamError(result.error, result.timedOut);
        if (sink.sawToken) return { status: 'partial', text: sink.text, promptTokens: null, completionTokens: null, attempts, failure };
        if (failure.retryable && attempts <= MAX_UPSTREAM_RETRIES) {
          const waitMs = backoffMs(failure, attempts);
          request.onRetry?.(failure, attempts, waitMs);
          await sleep(waitMs, request.signal);
          if (request.signal.aborted) return { status: 'aborted', text: '', promptTokens: null, completionTokens: null, attempts };
          continue;
        }
        return { status: 'failed', text: '', promptTokens: null, completionTokens: null, attempts, failure };
      }
    },
  };
};

export type UpstreamClient = ReturnType<typeof createUpstreamClient>;
