import { eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { configurations } from '../db/schema.js';

type NewConfiguration = typeof configurations.$inferInsert;
type ConfigurationChanges = Partial<Omit<NewConfiguration, 'id' | 'userId' | 'createdAt' | 'updatedAt'>>;

/** Queries on the owner's one configuration; no rules. */
export const createConfigurationRepository = (db: Database) => ({
  async findByUserId(userId: string) {
    const [row] = await db.select().from(configurations).where(eq(configurations.userId, userId)).limit(1);
    return row ?? null;
  },

  /** The inserted row, or null when the owner already has one (also under a concurrent PUT). */
  async insertIfAbsent(values: NewConfiguration & { id: string; userId: string }) {
    const [row] = await db.insert(configurations).values(values).onConflictDoNothing({ target: configurations.userId }).returning();
    return row ?? null;
  },

  async updateByUserId(userId: string, changes: ConfigurationChanges) {
    const [row] = await db
      .update(configurations)
      .set({ ...changes, updatedAt: new Date() })
      .where(eq(configurations.userId, userId))
      .returning();
    return row ?? null;
  },
});

export type ConfigurationRepository = ReturnType<typeof createConfigurationRepository>;
