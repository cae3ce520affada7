import { randomBytes, randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { createSessionToken, hashSessionToken } from '../../src/accounts/session-token.js';
import type { AppConfig } from '../../src/config.js';
import type { Database, DatabaseHandle } from '../../src/db/client.js';
import { apiKeys, configurations, sessions, users } from '../../src/db/schema.js';
import { createSecretBox } from '../../src/secrets/secret-box.js';

/** Anything that carries the database and the config: a TestApp, or the pieces of one. */
export interface FixtureTarget {
  database: DatabaseHandle;
  config: Pick<AppConfig, 'secretKey'>;
}

export interface WidgetOwnerOverrides {
  email?: string;
  faqText?: string;
  openAiApiKey?: string;
  model?: string;
  title?: string;
  greeting?: string;
  widgetColor?: string;
  fallbackText?: string;
  allowedOrigins?: string[];
  dailyMessageLimit?: number | null;
}

export interface WidgetOwner {
  userId: string;
  configurationId: string;
  apiKeyId: string;
  /** The public widget key, pk_… */
  key: string;
  /** The plaintext OpenAI key stored (encrypted) in the configuration. */
  openAiApiKey: string;
  faqText: string;
}

const token = (bytes: number) => randomBytes(bytes).toString('base64url').replaceAll('-', 'x').replaceAll('_', 'y');

/** A user, a configuration with an encrypted OpenAI key, and an ACTIVE widget key — rows only, no HTTP. */
export const createWidgetOwner = async (target: FixtureTarget, overrides: WidgetOwnerOverrides = {}): Promise<WidgetOwner> => {
  const db = target.database.db;
  const openAiApiKey = overrides.openAiApiKey ?? `sk-test-${token(24)}`;
  const faqText = overrides.faqText ?? `Q: What are your opening hours?\nA: 9 to 5, Monday to Friday. (${token(6)})`;
  const [user] = await db
    .insert(users)
    .values({ email: overrides.email ?? `owner-${token(8).toLowerCase()}@example.com`, password: 'scrypt$fixture-not-a-real-hash' })
    .returning({ id: users.id });
  const configurationId = randomUUID();
  await db.insert(configurations).values({
    id: configurationId,
    userId: user!.id,
    faqText,
    openAiApiKey: createSecretBox(target.config.secretKey).encrypt(openAiApiKey, configurationId),
    ...(overrides.model !== undefined ? { model: overrides.model } : {}),
    ...(overrides.title !== undefined ? { title: overrides.title } : {}),
    ...(overrides.greeting !== undefined ? { greeting: overrides.greeting } : {}),
    ...(overrides.widgetColor !== undefined ? { widgetColor: overrides.widgetColor } : {}),
    ...(overrides.fallbackText !== undefined ? { fallbackText: overrides.fallbackText } : {}),
    ...(overrides.allowedOrigins !== undefined ? { allowedOrigins: overrides.allowedOrigins } : {}),
    ...(overrides.dailyMessageLimit !== undefined ? { dailyMessageLimit: overrides.dailyMessageLimit } : {}),
  });
  const key = `pk_${token(16)}`;
  const [apiKey] = await db.insert(apiKeys).values({ key, configurationId }).returning({ id: apiKeys.id });
  return { userId: user!.id, configurationId, apiKeyId: apiKey!.id, key, openAiApiKey, faqText };
};

/** A live session for the owner; returns the bearer token for admin routes. */
export const createOwnerSession = async (target: { database: DatabaseHandle }, userId: string): Promise<string> => {
  const sessionToken = createSessionToken();
  await target.database.db.insert(sessions).values({
    userId,
    tokenHash: hashSessionToken(sessionToken),
    expiresAt: new Date(Date.now() + 60 * 60 * 1000),
  });
  return sessionToken;
};

/** Marks the owner's widget key REVOKED (the caller invalidates the app's key cache). */
export const revokeWidgetKey = async (db: Database, apiKeyId: string): Promise<void> => {
  await db.update(apiKeys).set({ status: 'REVOKED' }).where(eq(apiKeys.id, apiKeyId));
};

/** Gives the owner's widget key a new value and returns it (the old one must stop working). */
export const rotateWidgetKey = async (db: Database, apiKeyId: string): Promise<string> => {
  const key = `pk_${token(16)}`;
  await db.update(apiKeys).set({ key }).where(eq(apiKeys.id, apiKeyId));
  return key;
};
