import { z } from 'zod';

export const PASSWORD_MIN_CHARS = 10;
/** Long enough for any passphrase, short enough that hashing one is not a denial of service. Never truncated. */
export const PASSWORD_MAX_CHARS = 1024;

/** Trimmed and lower-cased before it is checked, so `Owner@Example.com ` and `owner@example.com` are one account. */
export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .check(z.email({ error: 'must be an e-mail address' }))
  .meta({ example: 'owner@example.com' });

export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN_CHARS, { error: `must be at least ${PASSWORD_MIN_CHARS} characters` })
  .max(PASSWORD_MAX_CHARS, { error: `must be at most ${PASSWORD_MAX_CHARS} characters` })
  .meta({ example: 'correct horse battery staple' });

export const credentialsSchema = z.strictObject({ email: emailSchema, password: passwordSchema }).meta({ id: 'Credentials' });

/** Login accepts any non-empty password up to the cap: a policy change must not lock out old accounts. */
export const loginSchema = z
  .strictObject({ email: emailSchema, password: z.string().min(1).max(PASSWORD_MAX_CHARS).meta({ example: 'correct horse battery staple' }) })
  .meta({ id: 'LoginCredentials' });

export const userSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'User', example: { id: '6f1c2b8e-3c39-4c4e-9d5b-2b1f7f0a9c11', email: 'owner@example.com', createdAt: '2026-01-01T12:00:00.000Z' } });

export const sessionSchema = z
  .object({
    user: userSchema,
    token: z.string().meta({ description: 'Bearer token for admin routes; shown once, stored only as its SHA-256' }),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'Session' });

export type UserView = z.infer<typeof userSchema>;
export type SessionView = z.infer<typeof sessionSchema>;
