import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema.js';

/** The query builder every repository takes; the same for PGlite and postgres.js. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DatabaseHandle {
  db: Database;
  kind: 'embedded' | 'postgres';
  /** Where the data lives, for logs: a directory, or host:port/database (never credentials). */
  location: string;
  migrate(): Promise<void>;
  /** Resolves when the database answers `select 1` within timeoutMs. */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
  /** Embedded only: a tarball of the data directory. */
  dump?: () => Promise<Blob>;
}

const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

const withTimeout = async <T>(work: Promise<T>, timeoutMs: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`database did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * PGlite in dataDir, or in memory when dataDir is undefined (tests). `loadDataDir` starts
 * from a dump (tests reuse one migrated dump instead of running initdb each time).
 */
export const openEmbeddedDatabase = async (dataDir: string | undefined, options: { loadDataDir?: Blob } = {}): Promise<DatabaseHandle> => {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create({ ...(dataDir ? { dataDir } : {}), ...options });
  const db = drizzlePglite({ client, schema });
  return {
    db,
    kind: 'embedded',
    dump: async () => client.dumpDataDir('none'),
    location: dataDir ?? 'memory',
    migrate: () => migratePglite(db, { migrationsFolder }),
    ping: async (timeoutMs = 2000) => {
      await withTimeout(client.query('select 1'), timeoutMs);
    },
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
};

export const openPostgresDatabase = async (url: string, options: { max?: number } = {}): Promise<DatabaseHandle> => {
  const client = postgres(url, {
    max: options.max ?? 10,
    connect_timeout: 5,
    idle_timeout: 60,
    onnotice: () => {},
  });
  const db = drizzlePostgres({ client, schema });
  const parsed = new URL(url);
  return {
    db,
    kind: 'postgres',
    location: `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`,
    migrate: () => migratePostgres(db, { migrationsFolder }),
    ping: async (timeoutMs = 2000) => {
      await withTimeout(db.execute(sql`select 1`), timeoutMs);
    },
    close: () => client.end({ timeout: 5 }), // idempotent in postgres.js
  };
};

/** postgres.js when DATABASE_URL is set, else PGlite in DATA_DIR/pg. */
export const openDatabase = (config: { DATABASE_URL?: string | undefined; DATA_DIR: string }): Promise<DatabaseHandle> =>
  config.DATABASE_URL ? openPostgresDatabase(config.DATABASE_URL) : openEmbeddedDatabase(join(config.DATA_DIR, 'pg'));
