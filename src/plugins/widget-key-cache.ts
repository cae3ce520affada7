import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Database } from '../db/client.js';
import { apiKeys, configurations } from '../db/schema.js';

/** Everything the public widget routes need about a key, read in one query. */
export interface WidgetContext {
  apiKeyId: string;
  key: string;
  configurationId: string;
  userId: string;
  faqText: string;
  widgetColor: string;
  title: string;
  greeting: string;
  fallbackText: string;
  model: string;
  allowedOrigins: string[];
  dailyMessageLimit: number | null;
  /** Still encrypted: decrypted only for the upstream call. */
  encryptedOpenAiApiKey: string;
}

export const findActiveWidgetContext = async (db: Database, key: string): Promise<WidgetContext | null> => {
  const [row] = await db
    .select({
      apiKeyId: apiKeys.id,
      key: apiKeys.key,
      configurationId: configurations.id,
      userId: configurations.userId,
      faqText: configurations.faqText,
      widgetColor: configurations.widgetColor,
      title: configurations.title,
      greeting: configurations.greeting,
      fallbackText: configurations.fallbackText,
      model: configurations.model,
      allowedOrigins: configurations.allowedOrigins,
      dailyMessageLimit: configurations.dailyMessageLimit,
      encryptedOpenAiApiKey: configurations.openAiApiKey,
    })
    .from(apiKeys)
    .innerJoin(configurations, eq(configurations.id, apiKeys.configurationId))
    .where(and(eq(apiKeys.key, key), eq(apiKeys.status, 'ACTIVE')))
    .limit(1);
  return row ?? null;
};

declare module 'fastify' {
  interface FastifyInstance {
    widgetKeys: WidgetKeyCache;
  }
}

/** Longest a change made on another instance can go unseen here (PRODUCT: revocation within 1 s). */
export const WIDGET_KEY_TTL_MS = 1000;

/**
 * Resolves public widget keys with a short in-process cache so /v1/widget/config does not
 * hit the database on every request. Owner-side changes on this instance call invalidate()
 * and take effect on the very next request; other instances see them within the TTL.
 */
export const createWidgetKeyCache = (db: Database, ttlMs = WIDGET_KEY_TTL_MS) => {
  const entries = new Map<string, { context: WidgetContext | null; expiresAt: number }>();
  const pending = new Map<string, Promise<WidgetContext | null>>();
  let generation = 0;

  return {
    async resolve(key: string): Promise<WidgetContext | null> {
      const cached = entries.get(key);
      if (cached && cached.expiresAt > Date.now()) return cached.context;
      const inFlight = pending.get(key);
      if (inFlight) return inFlight;
      const startedIn = generation;
      const lookup = findActiveWidgetContext(db, key)
        .then((context) => {
          // An invalidation that raced this lookup wins: do not cache what may be stale.
          if (startedIn === generation) {
            if (entries.size > 10_000) entries.clear();
            entries.set(key, { context, expiresAt: Date.now() + ttlMs });
          }
          return context;
        })
        .finally(() => pending.delete(key));
      pending.set(key, lookup);
      return lookup;
    },

    /** Forget what is cached for these keys (or everything): call after any owner-side change. */
    invalidate(...keys: string[]): void {
      generation++;
      if (keys.length === 0) entries.clear();
      for (const key of keys) entries.delete(key);
      pending.clear();
    },
  };
};

export type WidgetKeyCache = ReturnType<typeof createWidgetKeyCache>;

export const widgetKeyCachePlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate('widgetKeys', createWidgetKeyCache(app.database.db));
  },
  { name: 'widget-key-cache', dependencies: ['database'] },
);
