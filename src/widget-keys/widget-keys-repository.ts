import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { apiKeys, configurations } from '../db/schema.js';

/** Queries on the owner's one widget key; no rules. Every lookup goes through the owner's user id. */
export const createWidgetKeysRepository = (db: Database) => ({
  async findConfigurationId(userId: string): Promise<string | null> {
    const [row] = await db.select({ id: configurations.id }).from(configurations).where(eq(configurations.userId, userId)).limit(1);
    return row?.id ?? null;
  },

  async findByConfigurationId(configurationId: string) {
    const [row] = await db.select().from(apiKeys).where(eq(apiKeys.configurationId, configurationId)).limit(1);
    return row ?? null;
  },

  /** The new key, or null when the configuration already has one (also under a concurrent POST). */
  async insertIfAbsent(configurationId: string, key: string) {
    const [row] = await db.insert(apiKeys).values({ configurationId, key }).onConflictDoNothing({ target: apiKeys.configurationId }).returning();
    return row ?? null;
  },

  /** Puts a fresh ACTIVE value in place of `currentKey` if it is still in the given status; null when it changed meanwhile. */
  async replaceKey(configurationId: string, currentKey: string, status: 'ACTIVE' | 'REVOKED', nextKey: string, restart: boolean) {
    const [row] = await db
      .update(apiKeys)
      .set({ key: nextKey, status: 'ACTIVE', ...(restart ? { createdAt: new Date(), lastUsedAt: null } : {}) })
      .where(and(eq(apiKeys.configurationId, configurationId), eq(apiKeys.key, currentKey), eq(apiKeys.status, status)))
      .returning();
    return row ?? null;
  },

  async revoke(configurationId: string) {
    const [row] = await db.update(apiKeys).set({ status: 'REVOKED' }).where(eq(apiKeys.configurationId, configurationId)).returning();
    return row ?? null;
  },
});

export type WidgetKeysRepository = ReturnType<typeof createWidgetKeysRepository>;
