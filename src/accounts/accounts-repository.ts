import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { apiKeys, configurations, loginThrottles, sessions, users } from '../db/schema.js';

/** Queries behind accounts, sessions and login throttling; no rules. */
export const createAccountsRepository = (db: Database) => ({
  /** The new user, or null when the e-mail is taken (also under a concurrent signup). */
  async insertUser(email: string, passwordHash: string) {
    const [row] = await db.insert(users).values({ email, password: passwordHash }).onConflictDoNothing({ target: users.email }).returning();
    return row ?? null;
  },

  async findUserByEmail(email: string) {
    const [row] = await db.select().from(users).where(eq(users.email, email)).limit(1);
    return row ?? null;
  },

  async findUserById(id: string) {
    const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
    return row ?? null;
  },

  /** Replaces the stored hash only if it is still the one we verified (a concurrent change wins). */
  async replacePasswordHash(userId: string, previousHash: string, nextHash: string): Promise<void> {
    await db
      .update(users)
      .set({ password: nextHash })
      .where(and(eq(users.id, userId), eq(users.password, previousHash)));
  },

  /** Deletes the user; sessions, configuration, widget key and conversations go with it (ON DELETE CASCADE). */
  async deleteUser(userId: string): Promise<void> {
    await db.delete(users).where(eq(users.id, userId));
  },

  async findWidgetKeysOfUser(userId: string): Promise<string[]> {
    const rows = await db
      .select({ key: apiKeys.key })
      .from(apiKeys)
      .innerJoin(configurations, eq(configurations.id, apiKeys.configurationId))
      .where(eq(configurations.userId, userId));
    return rows.map((row) => row.key);
  },

  async insertSession(values: { userId: string; tokenHash: string; expiresAt: Date; ip: string | null; userAgent: string | null }) {
    const [row] = await db.insert(sessions).values(values).returning();
    return row!;
  },

  async revokeSession(sessionId: string): Promise<void> {
    await db
      .update(sessions)
      .set({ revokedAt: new Date() })
      .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
  },

  async findThrottle(emailHash: string) {
    const [row] = await db.select().from(loginThrottles).where(eq(loginThrottles.emailHash, emailHash)).limit(1);
    return row ?? null;
  },

  /** Counts one more failure atomically; a streak older than `streakStartsAfter` starts over at 1. */
  async recordFailure(emailHash: string, streakStartsAfter: Date): Promise<number> {
    const [row] = await db
      .insert(loginThrottles)
      .values({ emailHash, failures: 1 })
      .onConflictDoUpdate({
        target: loginThrottles.emailHash,
        set: {
          failures: sql`case when ${loginThrottles.updatedAt} < ${streakStartsAfter.toISOString()}::timestamptz then 1 else ${loginThrottles.failures} + 1 end`,
          updatedAt: sql`now()`,
        },
      })
      .returning({ failures: loginThrottles.failures });
    return row!.failures;
  },

  async lockUntil(emailHash: string, lockedUntil: Date): Promise<void> {
    await db.update(loginThrottles).set({ lockedUntil }).where(eq(loginThrottles.emailHash, emailHash));
  },

  async clearThrottle(emailHash: string): Promise<void> {
    await db.delete(loginThrottles).where(eq(loginThrottles.emailHash, emailHash));
  },
});

export type AccountsRepository = ReturnType<typeof createAccountsRepository>;
