import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import t from 'tap';
import { openEmbeddedDatabase } from '../../src/db/client.js';
import { users } from '../../src/db/schema.js';
import { createScratchPostgresUrl, openTestDatabase } from '../helpers/app.js';
import { ensureBuilt, freePort, type RunningServer, repoRoot, spawnServer, waitForLog, waitUntilAnswering } from './built-server.js';

// Real processes and PGlite's initdb: generous for a loaded CI machine; every wait inside is bounded too.
t.setTimeout(600_000);

const journal = JSON.parse(readFileSync(join(repoRoot, 'drizzle', 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };

const tempDataDir = (t: { teardown(fn: () => unknown): void }): string => {
  const dir = mkdtempSync(join(tmpdir(), 'faqchat-process-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

/** The built server on a free port, answering /health. */
const startServer = async (t: Parameters<typeof spawnServer>[0], env: Record<string, string>): Promise<RunningServer> => {
  const port = await freePort();
  const server = spawnServer(t, { PORT: String(port), LOG_LEVEL: 'info', ...env }, port);
  await waitUntilAnswering(server, '/health', 120_000);
  return server;
};

const getJson = async (server: RunningServer, path: string) => {
  const response = await fetch(`${server.baseUrl}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const postJson = async (server: RunningServer, path: string, body: unknown) => {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

/** Reads the embedded database the server left behind (only while no server runs on it). */
const withEmbedded = async <T>(dataDir: string, work: (database: Awaited<ReturnType<typeof openEmbeddedDatabase>>) => Promise<T>): Promise<T> => {
  const database = await openEmbeddedDatabase(join(dataDir, 'pg'));
  try {
    return await work(database);
  } finally {
    await database.close();
  }
};

const appliedMigrations = async (dataDir: string): Promise<number> =>
  withEmbedded(dataDir, async ({ db }) => {
    const result = (await db.execute(sql`select count(*)::int as count from drizzle.__drizzle_migrations`)) as unknown as { rows: Array<{ count: number }> };
    return result.rows[0]!.count;
  });

/**
 * A migrated DATA_DIR/pg to copy: PGlite's initdb takes seconds, so only the first test
 * pays for a start on an empty directory; the others start as a restarted server would.
 */
let template: string;

t.before(async () => {
  await ensureBuilt(t);
  template = tempDataDir(t);
  const migrated = await openTestDatabase(t, 'embedded');
  const dump = await migrated.dump!();
  await migrated.close();
  const seeded = await openEmbeddedDatabase(join(template, 'pg'), { loadDataDir: dump });
  await seeded.close();
});

const migratedDataDir = (t: { teardown(fn: () => unknown): void }): string => {
  const dir = tempDataDir(t);
  cpSync(join(template, 'pg'), join(dir, 'pg'), { recursive: true });
  return dir;
};

t.test('embedded: starts, migrates, logs where to go, exits 0 on SIGTERM', async (t) => {
  const dataDir = tempDataDir(t);
  const server = await startServer(t, { DATA_DIR: dataDir });

  t.same((await getJson(server, '/health')).body, { status: 'ok' });
  const ready = await getJson(server, '/health/db');
  t.equal(ready.status, 200, '/health/db answers 200');
  t.equal(ready.body.database, 'embedded');

  const started = await waitForLog(server, (line) => String(line.msg).includes('faqchat is running'));
  t.match(started.msg, `http://127.0.0.1:${server.port}`, 'the start-up line gives the URL');
  t.match(started.msg, `http://127.0.0.1:${server.port}/docs`, 'and the API docs');
  t.match(started.database, join(dataDir, 'pg'), 'and where the embedded database lives');
  t.equal(started.secretKey, 'generated', 'and that the secret key was generated (never the key itself)');

  const keyPath = join(dataDir, 'secret.key');
  t.equal(statSync(keyPath).mode & 0o777, 0o600, 'the generated key file is private');
  t.notMatch(server.stdout() + server.stderr(), readFileSync(keyPath, 'utf8').trim(), 'the key never reaches the logs');

  t.same(await server.stop('SIGTERM'), { code: 0, signal: null }, 'SIGTERM → exit code 0');
  t.match(server.stdout(), /shutting down/, 'logs that it is shutting down');
  t.equal(server.stderr(), '', 'nothing on stderr');
  t.equal(await appliedMigrations(dataDir), journal.entries.length, 'every migration was applied to DATA_DIR/pg');
});

t.test('embedded: a write the server acknowledged survives SIGKILL, and the restart reuses DATA_DIR', async (t) => {
  const dataDir = migratedDataDir(t);
  const email = `durable-${randomBytes(4).toString('hex')}@example.com`;
  const password = 'correct horse battery staple';

  const first = await startServer(t, { DATA_DIR: dataDir });
  const signup = await postJson(first, '/v1/auth/signup', { email, password });
  t.equal(signup.status, 201, `signup acknowledged: ${JSON.stringify(signup.body)}`);
  t.same(await first.stop('SIGKILL'), { code: null, signal: 'SIGKILL' }, 'killed without any chance to flush or close');

  const second = await startServer(t, { DATA_DIR: dataDir });
  t.equal((await getJson(second, '/health/db')).status, 200, 'the embedded database opens after an unclean stop');
  const restarted = await waitForLog(second, (line) => String(line.msg).includes('faqchat is running'));
  t.equal(restarted.secretKey, 'DATA_DIR/secret.key', 'the restart reuses the key generated on the first start');
  const login = await postJson(second, '/v1/auth/login', { email, password });
  t.equal(login.status, 200, `the account is still there: ${JSON.stringify(login.body)}`);
  t.same(await second.stop('SIGTERM'), { code: 0, signal: null });

  // Read back with no server running: the row is on disk, not in a process's memory.
  const rows = await withEmbedded(dataDir, ({ db }) => db.select().from(users).where(eq(users.email, email)));
  t.equal(rows.length, 1, 'exactly one row for the account');
  t.notMatch(rows[0]?.password, password, 'the stored password is a hash');
});

t.test('a port already in use stops the start with exit code 1', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => blocker.close(resolve)));
  const port = (blocker.address() as { port: number }).port;
  const server = spawnServer(t, { DATA_DIR: migratedDataDir(t), PORT: String(port), LOG_LEVEL: 'info' }, port);
  t.same(await server.exited(120_000), { code: 1, signal: null });
  t.match(server.stdout(), /EADDRINUSE/, 'the log says why');
});

t.test('an unreachable DATABASE_URL stops the start with exit code 1 and a readable message', async (t) => {
  const port = await freePort(); // nothing listens there
  const server = spawnServer(t, {
    DATA_DIR: tempDataDir(t),
    DATABASE_URL: `postgres://faqchat:s3cret-password@127.0.0.1:${port}/faqchat`,
    SECRET_KEY: randomBytes(32).toString('base64'),
  });
  t.same(await server.exited(120_000), { code: 1, signal: null });
  t.match(server.stderr(), /^faqchat cannot start: the database is not usable \(/);
  t.notMatch(server.stdout() + server.stderr(), 's3cret-password', 'the database password is not printed');
});

if (process.env.TEST_DATABASE_URL) {
  t.test('PostgreSQL: DATABASE_URL + SECRET_KEY start, migrate and answer /health/db', async (t) => {
    const url = await createScratchPostgresUrl(t);
    const server = await startServer(t, { DATA_DIR: tempDataDir(t), DATABASE_URL: url, SECRET_KEY: randomBytes(32).toString('base64') });

    const ready = await getJson(server, '/health/db');
    t.equal(ready.status, 200);
    t.equal(ready.body.database, 'postgres');
    const started = await waitForLog(server, (line) => String(line.msg).includes('faqchat is running'));
    const parsed = new URL(url);
    t.match(started.database, `PostgreSQL at ${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`);
    t.equal(started.secretKey, 'SECRET_KEY');
    t.same(await server.stop('SIGTERM'), { code: 0, signal: null }, 'SIGTERM → exit code 0');

    const client = postgres(url, { max: 1, onnotice: () => {} });
    t.teardown(() => client.end({ timeout: 5 }));
    const [{ count }] = await client<[{ count: number }]>`select count(*)::int as count from drizzle.__drizzle_migrations`;
    t.equal(count, journal.entries.length, 'every migration was applied');
    const tables = await client<Array<{ table_name: string }>>`select table_name from information_schema.tables where table_schema = 'public'`;
    for (const table of ['users', 'configurations', 'api_keys']) t.ok(tables.some((row) => row.table_name === table), `${table} exists`);
  });
}
