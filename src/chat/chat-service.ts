import type { FastifyBaseLogger } from 'fastify';
import { nanoid } from 'nanoid';
import type { AppConfig } from '../config.js';
import { AppError } from '../errors.js';
import type { WidgetContext } from '../plugins/widget-key-cache.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { buildChatMessages } from './chat-prompt.js';
import type { ChatRepository } from './chat-repository.js';
import type { UpstreamClient, UpstreamFailure } from './upstream.js';

export const newVisitorId = (): string => `v_${nanoid(21)}`;

const DAY_MS = 24 * 60 * 60 * 1000;

export const startOfUtcDay = (now: Date): Date => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));

/** Whole seconds until the next UTC midnight (at least 1), for Retry-After on the daily cap. */
export const secondsUntilUtcMidnight = (now: Date): number =>
  Math.max(1, Math.ceil((startOfUtcDay(now).getTime() + DAY_MS - now.getTime()) / 1000));

export interface TurnInput {
  message: string;
  conversationId?: string | undefined;
  visitorId?: string | undefined;
  origin: string | null;
}

export interface Turn {
  conversationId: string;
  visitorId: string;
  question: string;
  history: Array<{ role: 'user' | 'assistant'; content: string }>;
}

export interface AnswerResult {
  messageId: string;
  status: 'complete' | 'partial' | 'aborted' | 'failed';
  text: string;
  failure?: UpstreamFailure;
}

const ownerProblemMessages: Record<string, string> = {
  invalid_key: 'the OpenAI API rejected the configured key (401/403); update it in PUT /v1/configuration',
  insufficient_quota: 'the OpenAI account of the configured key has no quota left',
  rejected_request: 'the OpenAI API rejected the request (check the configured model)',
};

/** The visitor chat rules: daily cap, conversation continuity, store-before-call, answer persistence. */
export const createChatService = (deps: {
  repository: ChatRepository;
  upstream: UpstreamClient;
  secretBox: Pick<SecretBox, 'decrypt'>;
  config: Pick<AppConfig, 'CHAT_HISTORY_TURNS'>;
}) => {
  const storeAnswer = async (
    context: WidgetContext,
    turn: Turn,
    outcome: { status: AnswerResult['status']; text: string; promptTokens: number | null; completionTokens: number | null },
  ) => {
    const row = await deps.repository.insertAssistantMessage({
      conversationId: turn.conversationId,
      configurationId: context.configurationId,
      content: outcome.text,
      status: outcome.status,
      model: context.model,
      promptTokens: outcome.promptTokens,
      completionTokens: outcome.completionTokens,
    });
    return { messageId: row.id, status: outcome.status, text: outcome.text };
  };

  return {
    /** Checks the daily cap, continues or opens the conversation and stores the visitor's message, in one statement. */
    async beginTurn(context: WidgetContext, input: TurnInput, now = new Date()): Promise<Turn> {
      const visitorId = input.visitorId ?? newVisitorId();
      // One round trip before the upstream call. A conversation that is not this visitor's (or no
      // longer exists) is never continued: a new one starts.
      const opened = await deps.repository.openTurn({
        configurationId: context.configurationId,
        conversationId: input.conversationId ?? null,
        visitorId,
        origin: input.origin,
        content: input.message,
        historyLimit: deps.config.CHAT_HISTORY_TURNS * 2,
        cap: context.dailyMessageLimit === null ? null : { limit: context.dailyMessageLimit, since: startOfUtcDay(now) },
      });
      if (opened.capped) {
        throw new AppError('DAILY_LIMIT_REACHED', 'This assistant has answered all the questions it can today. Please try again tomorrow.', {
          headers: { 'retry-after': String(secondsUntilUtcMidnight(now)) },
        });
      }
      return { conversationId: opened.conversationId, visitorId, question: input.message, history: opened.history };
    },

    /** Asks the owner's model and stores whatever came back — complete, partial, aborted or failed. */
    async answer(
      context: WidgetContext,
      turn: Turn,
      options: { signal: AbortSignal; onDelta(text: string): void; log: FastifyBaseLogger },
    ): Promise<AnswerResult> {
      const { log } = options;
      let apiKey: string;
      try {
        apiKey = deps.secretBox.decrypt(context.encryptedOpenAiApiKey, context.configurationId);
      } catch {
        log.error({ configurationId: context.configurationId }, 'the stored OpenAI key cannot be decrypted (was SECRET_KEY changed?)');
        const failure: UpstreamFailure = { code: 'UPSTREAM_UNAVAILABLE', reason: 'invalid_key', ownerProblem: true, retryable: false };
        return { ...(await storeAnswer(context, turn, { status: 'failed', text: '', promptTokens: null, completionTokens: null })), failure };
      }

      const outcome = await deps.upstream.streamAnswer({
        apiKey,
        model: context.model,
        messages: buildChatMessages({ faqText: context.faqText, fallbackText: context.fallbackText, history: turn.history, question: turn.question }),
        signal: options.signal,
        onDelta: options.onDelta,
        onRetry: (failure, attempt, waitMs) =>
          log.info({ configurationId: context.configurationId, reason: failure.reason, status: failure.status, attempt, waitMs }, 'retrying the upstream call'),
      });

      if (outcome.failure?.ownerProblem) {
        // For the owner, in the logs: which configuration and why — never the key or the upstream's message (it may echo the key).
        log.warn(
          { configurationId: context.configurationId, reason: outcome.failure.reason, upstreamStatus: outcome.failure.status },
          `upstream refused the answer: ${ownerProblemMessages[outcome.failure.reason] ?? outcome.failure.reason}`,
        );
      } else if (outcome.failure) {
        log.warn(
          { configurationId: context.configurationId, reason: outcome.failure.reason, upstreamStatus: outcome.failure.status, attempts: outcome.attempts, answerStatus: outcome.status },
          'upstream call failed',
        );
      }

      const stored = await storeAnswer(context, turn, outcome);
      return { ...stored, ...(outcome.failure ? { failure: outcome.failure } : {}) };
    },

    async visitorTranscript(context: WidgetContext, conversationId: string, visitorId: string) {
      const transcript = uuidPattern.test(conversationId)
        ? await deps.repository.visitorTranscript(context.configurationId, conversationId, visitorId)
        : null;
      if (!transcript) throw new AppError('NOT_FOUND', 'No such conversation for this visitor');
      return transcript;
    },
  };
};

/** Conversation ids are gen_random_uuid(); anything else cannot exist (and must never reach a uuid cast). */
export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type ChatService = ReturnType<typeof createChatService>;
