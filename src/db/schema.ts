import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const id = () =>
  text('id')
    .primaryKey()
    .default(sql`gen_random_uuid()::text`);
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () =>
  timestamp('updated_at', { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());

export const users = pgTable('users', {
  id: id(),
  email: text('email').notNull().unique(),
  /** scrypt hash string with its parameters — never the password. */
  password: text('password').notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const sessions = pgTable(
  'sessions',
  {
    id: id(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** SHA-256 of the bearer token, hex. The token itself is never stored. */
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    ip: text('ip'),
    userAgent: text('user_agent'),
  },
  (table) => [index('sessions_user_id_idx').on(table.userId)],
);

export const configurations = pgTable('configurations', {
  id: id(),
  faqText: text('faq_text').notNull(),
  widgetColor: text('widget_color').notNull().default('#007bff'),
  /** AES-256-GCM ciphertext with a version prefix — never the key. */
  openAiApiKey: text('open_ai_api_key').notNull(),
  model: text('model').notNull().default('gpt-4o-mini'),
  title: text('title').notNull().default('Questions? Ask us'),
  greeting: text('greeting').notNull().default('Hi! Ask me anything about our service.'),
  /** What the assistant says when the FAQ does not cover a question. */
  fallbackText: text('fallback_text')
    .notNull()
    .default("Sorry, I don't have an answer to that. Please contact us directly."),
  /** Exact origins allowed to use the widget; empty means any. */
  allowedOrigins: text('allowed_origins').array().notNull().default(sql`'{}'::text[]`),
  /** Visitor messages accepted per UTC day; null means no cap. */
  dailyMessageLimit: integer('daily_message_limit'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
  userId: text('user_id')
    .notNull()
    .unique()
    .references(() => users.id, { onDelete: 'cascade' }),
});

export const apiKeys = pgTable('api_keys', {
  id: id(),
  key: text('key').notNull().unique(),
  status: text('status', { enum: ['ACTIVE', 'REVOKED'] })
    .notNull()
    .default('ACTIVE'),
  createdAt: createdAt(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  configurationId: text('configuration_id')
    .notNull()
    .unique()
    .references(() => configurations.id, { onDelete: 'cascade' }),
});

/** Failed-login bookkeeping per e-mail (known or not), so throttling cannot reveal which accounts exist. */
export const loginThrottles = pgTable('login_throttles', {
  /** SHA-256 of the lower-cased e-mail, hex. */
  emailHash: text('email_hash').primaryKey(),
  failures: integer('failures').notNull().default(0),
  lockedUntil: timestamp('locked_until', { withTimezone: true }),
  updatedAt: updatedAt(),
});

export const conversations = pgTable(
  'conversations',
  {
    id: id(),
    configurationId: text('configuration_id')
      .notNull()
      .references(() => configurations.id, { onDelete: 'cascade' }),
    /** Random id the widget keeps in localStorage; only that visitor may restore the conversation. */
    visitorId: text('visitor_id').notNull(),
    origin: text('origin'),
    createdAt: createdAt(),
    lastMessageAt: timestamp('last_message_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('conversations_configuration_created_idx').on(table.configurationId, table.createdAt, table.id)],
);

export const messages = pgTable(
  'messages',
  {
    id: id(),
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    /** Denormalised from the conversation so usage and the daily cap are one indexed scan. */
    configurationId: text('configuration_id')
      .notNull()
      .references(() => configurations.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ['user', 'assistant'] }).notNull(),
    content: text('content').notNull(),
    /** complete | partial (upstream cut after first token) | aborted (visitor left) | failed (no answer). */
    status: text('status', { enum: ['complete', 'partial', 'aborted', 'failed'] })
      .notNull()
      .default('complete'),
    model: text('model'),
    promptTokens: integer('prompt_tokens'),
    completionTokens: integer('completion_tokens'),
    createdAt: createdAt(),
  },
  (table) => [
    index('messages_conversation_created_idx').on(table.conversationId, table.createdAt),
    index('messages_configuration_created_idx').on(table.configurationId, table.createdAt),
  ],
);

export type User = typeof users.$inferSelect;
export type Session = typeof sessions.$inferSelect;
export type Configuration = typeof configurations.$inferSelect;
export type ApiKey = typeof apiKeys.$inferSelect;
export type Conversation = typeof conversations.$inferSelect;
export type Message = typeof messages.$inferSelect;
