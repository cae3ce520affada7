import { eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { apiKeys } from '../db/schema.js';

export const createWidgetRepository = (db: Database) => ({
  async touchApiKey(apiKeyId: string, at: Date) {
    await db.update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, apiKeyId));
  },
});

export type WidgetRepository = ReturnType<typeof createWidgetRepository>;
