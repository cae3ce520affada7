import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { z } from 'zod';

const SECRET_KEY_BYTES = 32;

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const base64Key = z
  .string()
  .trim()
  .refine((value) => /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length === SECRET_KEY_BYTES, {
    message: `must be ${SECRET_KEY_BYTES} bytes encoded as base64 (generate one with: openssl rand -base64 32)`,
  });

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
const positiveInt = z.coerce.number().int().positive();

/** Every environment variable faqchat reads, with its default. Documented in the README. */
const envSchema = z.object({
  PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535).default(3000),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }).optional(),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  SECRET_KEY: base64Key.optional(),
  SECRET_KEY_FILE: z.string().trim().min(1).optional(),
  PUBLIC_URL: httpUrl.optional(),
  OPENAI_BASE_URL: httpUrl.default('https://api.openai.com/v1'),
  OPENAI_TIMEOUT_MS: positiveInt.default(30_000),
  OPENAI_MAX_OUTPUT_TOKENS: positiveInt.default(512),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  TRUST_PROXY: booleanFlag.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SESSION_TTL_HOURS: positiveInt.default(24 * 30),
  CHAT_MAX_MESSAGE_CHARS: positiveInt.default(1000),
  CHAT_HISTORY_TURNS: z.coerce.number().int().min(0).default(6),
  RATE_LIMIT_VISITOR_PER_MINUTE: positiveInt.default(20),
  RATE_LIMIT_KEY_PER_MINUTE: positiveInt.default(600),
  /** Prefix of the rate-limit counters in REDIS_URL (several deployments may share one Redis). */
  REDIS_KEY_PREFIX: z.string().trim().min(1).max(100).default('faqchat:rl:'),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
});

type Env = z.infer<typeof envSchema>;

export interface AppConfig extends Omit<Env, 'SECRET_KEY' | 'SECRET_KEY_FILE' | 'PUBLIC_URL'> {
  PUBLIC_URL: string;
  /** The 32-byte key that encrypts stored OpenAI keys. */
  secretKey: Buffer;
  /** Where the key came from, for the start-up log line (never the key itself). */
  secretKeySource: 'SECRET_KEY' | 'SECRET_KEY_FILE' | 'generated' | 'DATA_DIR/secret.key';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const decodeKey = (value: string, origin: string): Buffer => {
  const result = base64Key.safeParse(value);
  if (!result.success) throw new ConfigError([`${origin}: ${result.error.issues[0]?.message ?? 'invalid key'}`]);
  return Buffer.from(result.data, 'base64');
};

const resolveSecretKey = (env: Env): Pick<AppConfig, 'secretKey' | 'secretKeySource'> => {
  if (env.SECRET_KEY) return { secretKey: Buffer.from(env.SECRET_KEY, 'base64'), secretKeySource: 'SECRET_KEY' };
  if (env.SECRET_KEY_FILE) {
    let content: string;
    try {
      content = readFileSync(env.SECRET_KEY_FILE, 'utf8');
    } catch {
      throw new ConfigError([`SECRET_KEY_FILE: cannot read ${env.SECRET_KEY_FILE}`]);
    }
    return { secretKey: decodeKey(content, 'SECRET_KEY_FILE'), secretKeySource: 'SECRET_KEY_FILE' };
  }
  if (env.DATABASE_URL) {
    throw new ConfigError([
      'SECRET_KEY: required with DATABASE_URL (set SECRET_KEY or SECRET_KEY_FILE to 32 random bytes in base64: openssl rand -base64 32)',
    ]);
  }
  // Embedded mode: one key per data directory, generated on first start.
  const keyPath = join(env.DATA_DIR, 'secret.key');
  if (existsSync(keyPath)) {
    return { secretKey: decodeKey(readFileSync(keyPath, 'utf8'), keyPath), secretKeySource: 'DATA_DIR/secret.key' };
  }
  mkdirSync(env.DATA_DIR, { recursive: true });
  writeFileSync(keyPath, `${randomBytes(SECRET_KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(keyPath, 0o600);
  return { secretKey: decodeKey(readFileSync(keyPath, 'utf8'), keyPath), secretKeySource: 'generated' };
};

/**
 * Parses the environment once. Throws ConfigError naming every bad variable;
 * server.ts turns that into exit code 1.
 */
export const loadConfig = (source: NodeJS.ProcessEnv = process.env): Readonly<AppConfig> => {
  // An empty variable means "unset", as in most .env tooling.
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`));
  }
  const env = parsed.data;
  const { SECRET_KEY: _key, SECRET_KEY_FILE: _keyFile, PUBLIC_URL, ...rest } = env;
  const listenHost = env.HOST === '0.0.0.0' || env.HOST === '::' ? 'localhost' : env.HOST;
  return Object.freeze({
    ...rest,
    DATA_DIR: resolve(env.DATA_DIR),
    PUBLIC_URL: (PUBLIC_URL ?? `http://${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${env.PORT}`).replace(/\/+$/, ''),
    ...resolveSecretKey(env),
  });
};
