import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import postgres from 'postgres';
import type { PasswordHasher } from '../../src/accounts/password-hashing.js';
import { buildApp } from '../../src/app.js';
import { type AppConfig, loadConfig } from '../../src/config.js';
import { type DatabaseHandle, openEmbeddedDatabase, openPostgresDatabase } from '../../src/db/client.js';

/** What a tap test object offers that the helpers need (keeps helpers independent of tap's types). */
export interface TestContext {
  teardown(fn: () => unknown): void;
}

export type DatabaseKind = 'embedded' | 'postgres';

/** PGlite always; the PostgreSQL in TEST_DATABASE_URL too when it is set. */
export const databaseKinds = (): DatabaseKind[] => (process.env.TEST_DATABASE_URL ? ['embedded', 'postgres'] : ['embedded']);

/** A URL for a brand-new, empty database on TEST_DATABASE_URL's server, dropped at teardown. */
export const createScratchPostgresUrl = async (t: TestContext): Promise<string> => {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `faqchat_t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  t.teardown(async () => {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end({ timeout: 5 });
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
};

const migrationsDigest = (): string => {
  const folder = fileURLToPath(new URL('../../drizzle', import.meta.url));
  const hash = createHash('sha256');
  for (const file of readdirSync(folder, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())) {
    const path = join(file.parentPath, file.name);
    hash.update(path.slice(folder.length)).update(readFileSync(path));
  }
  return hash.digest('hex').slice(0, 16);
};

let migratedDump: Promise<Blob> | undefined;

/**
 * A dump of a freshly migrated PGlite, cached on disk per migration set: PGlite's initdb
 * takes seconds, loading a dump well under one.
 */
const migratedEmbeddedDump = (): Promise<Blob> =>
  (migratedDump ??= (async () => {
    const cacheDir = fileURLToPath(new URL('../../node_modules/.cache/faqchat/', import.meta.url));
    const cacheFile = join(cacheDir, `pglite-${migrationsDigest()}.tar`);
    if (existsSync(cacheFile)) return new Blob([readFileSync(cacheFile)]);
    const database = await openEmbeddedDatabase(undefined);
    await database.migrate();
    const dump = await database.dump!();
    await database.close();
    mkdirSync(cacheDir, { recursive: true });
    const partial = `${cacheFile}.${process.pid}`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, cacheFile);
    return dump;
  })());

/** A fresh, migrated database of the given kind. The caller (or the app) closes it. */
export const openTestDatabase = async (t: TestContext, kind: DatabaseKind): Promise<DatabaseHandle> => {
  const database =
    kind === 'embedded'
      ? await openEmbeddedDatabase(undefined, { loadDataDir: await migratedEmbeddedDump() })
      : await openPostgresDatabase(await createScratchPostgresUrl(t));
  await database.migrate();
  return database;
};

export const testSecretKey = (): string => randomBytes(32).toString('base64');

/** A config as the server would parse it, with a random secret key and a private DATA_DIR. */
export const testConfig = (t: TestContext, env: Record<string, string> = {}): Readonly<AppConfig> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'faqchat-test-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  return loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dataDir, SECRET_KEY: testSecretKey(), PUBLIC_URL: 'http://faqchat.test', ...env });
};

export interface TestApp {
  app: FastifyInstance;
  config: Readonly<AppConfig>;
  database: DatabaseHandle;
}

/** Builds the real app on a fresh migrated database; closed (database included) at teardown. */
export const buildTestApp = async (
  t: TestContext,
  options: { kind?: DatabaseKind; env?: Record<string, string>; logStream?: NodeJS.WritableStream; passwordHasher?: PasswordHasher } = {},
): Promise<TestApp> => {
  const config = testConfig(t, { ...(options.logStream ? { LOG_LEVEL: 'info' } : {}), ...options.env });
  const database = await openTestDatabase(t, options.kind ?? 'embedded');
  const app = await buildApp(config, {
    database,
    ...(options.logStream ? { logStream: options.logStream } : {}),
    ...(options.passwordHasher ? { passwordHasher: options.passwordHasher } : {}),
  });
  t.teardown(() => app.close());
  await app.ready();
  return { app, config, database };
};
