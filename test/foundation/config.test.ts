import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.js';
import { ensureBuilt, spawnServer } from './built-server.js';

// Spawns the built server several times: generous for a loaded CI machine; each wait is bounded too.
t.setTimeout(600_000);

const key = () => randomBytes(32).toString('base64');

const tempDataDir = (t: { teardown(fn: () => unknown): void }): string => {
  const dir = mkdtempSync(join(tmpdir(), 'faqchat-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

const configError = (env: Record<string, string>): ConfigError => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
};

t.test('documented defaults', async (t) => {
  // SECRET_KEY is given so the default ./data is resolved but nothing is written there.
  const config = loadConfig({ SECRET_KEY: key() });
  t.equal(config.PORT, 3000);
  t.equal(config.HOST, '127.0.0.1');
  t.equal(config.DATA_DIR, resolve('./data'));
  t.equal(config.DATABASE_URL, undefined);
  t.equal(config.OPENAI_BASE_URL, 'https://api.openai.com/v1');
  t.equal(config.LOG_LEVEL, 'info');
  t.equal(config.TRUST_PROXY, false);
  t.equal(config.REDIS_URL, undefined);
  t.equal(config.PUBLIC_URL, 'http://127.0.0.1:3000');
  t.equal(config.secretKeySource, 'SECRET_KEY');
  t.ok(Object.isFrozen(config), 'the config is frozen');
});

t.test('values are parsed and PUBLIC_URL follows HOST and PORT', async (t) => {
  const dataDir = tempDataDir(t);
  const config = loadConfig({ DATA_DIR: dataDir, SECRET_KEY: key(), PORT: '8080', HOST: '0.0.0.0', TRUST_PROXY: 'true', LOG_LEVEL: 'warn' });
  t.equal(config.PORT, 8080);
  t.equal(config.TRUST_PROXY, true);
  t.equal(config.LOG_LEVEL, 'warn');
  t.equal(config.PUBLIC_URL, 'http://localhost:8080', 'a wildcard listen address is not a URL a browser can use');
  t.equal(loadConfig({ DATA_DIR: dataDir, SECRET_KEY: key(), HOST: '::1' }).PUBLIC_URL, 'http://[::1]:3000');
  t.equal(
    loadConfig({ DATA_DIR: dataDir, SECRET_KEY: key(), PUBLIC_URL: 'https://chat.example.com/' }).PUBLIC_URL,
    'https://chat.example.com',
    'trailing slash dropped so the snippet URL has no //',
  );
  t.equal(loadConfig({ DATA_DIR: dataDir, SECRET_KEY: key(), TRUST_PROXY: 'no' }).TRUST_PROXY, false);
});

t.test('an empty variable is treated as unset', async (t) => {
  const dataDir = tempDataDir(t);
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '', HOST: '', DATABASE_URL: '', SECRET_KEY: '', SECRET_KEY_FILE: '', LOG_LEVEL: '', PUBLIC_URL: '' });
  t.equal(config.PORT, 3000);
  t.equal(config.HOST, '127.0.0.1');
  t.equal(config.DATABASE_URL, undefined, 'empty DATABASE_URL means the embedded database');
  t.equal(config.LOG_LEVEL, 'info');
  t.equal(config.secretKeySource, 'generated', 'empty SECRET_KEY means "generate one"');
});

t.test('embedded mode generates the secret key once, mode 0600, and reuses it', async (t) => {
  const dataDir = join(tempDataDir(t), 'nested', 'data');
  const first = loadConfig({ DATA_DIR: dataDir });
  const keyPath = join(dataDir, 'secret.key');
  t.equal(first.secretKeySource, 'generated');
  t.equal(first.secretKey.length, 32);
  t.equal(statSync(keyPath).mode & 0o777, 0o600, 'only the owner can read the key file');
  t.equal(Buffer.from(readFileSync(keyPath, 'utf8').trim(), 'base64').toString('hex'), first.secretKey.toString('hex'));

  const second = loadConfig({ DATA_DIR: dataDir });
  t.equal(second.secretKeySource, 'DATA_DIR/secret.key');
  t.equal(second.secretKey.toString('hex'), first.secretKey.toString('hex'), 'the next start uses the same key');

  const elsewhere = loadConfig({ DATA_DIR: tempDataDir(t) });
  t.not(elsewhere.secretKey.toString('hex'), first.secretKey.toString('hex'), 'each data directory gets its own key');
});

t.test('SECRET_KEY and SECRET_KEY_FILE', async (t) => {
  const dataDir = tempDataDir(t);
  const value = key();
  const fromEnv = loadConfig({ DATA_DIR: dataDir, SECRET_KEY: value });
  t.equal(fromEnv.secretKey.toString('base64'), value);
  t.equal(fromEnv.secretKeySource, 'SECRET_KEY');
  t.notOk(existsSync(join(dataDir, 'secret.key')), 'no key file is generated when one is given');

  const keyFile = join(dataDir, 'key.txt');
  const fileValue = key();
  writeFileSync(keyFile, `${fileValue}\n`, { mode: 0o600 });
  const fromFile = loadConfig({ DATA_DIR: dataDir, SECRET_KEY_FILE: keyFile });
  t.equal(fromFile.secretKey.toString('base64'), fileValue, 'the trailing newline of the file is ignored');
  t.equal(fromFile.secretKeySource, 'SECRET_KEY_FILE');

  t.equal(loadConfig({ DATA_DIR: dataDir, SECRET_KEY: value, SECRET_KEY_FILE: keyFile }).secretKeySource, 'SECRET_KEY', 'SECRET_KEY wins');

  const withPostgres = loadConfig({ DATA_DIR: dataDir, DATABASE_URL: 'postgres://app@db:5432/faqchat', SECRET_KEY_FILE: keyFile });
  t.equal(withPostgres.secretKeySource, 'SECRET_KEY_FILE', 'a key file satisfies DATABASE_URL');

  t.match(configError({ DATA_DIR: dataDir, SECRET_KEY_FILE: join(dataDir, 'missing') }).problems, [/^SECRET_KEY_FILE: cannot read /]);
  writeFileSync(join(dataDir, 'short.txt'), randomBytes(16).toString('base64'));
  t.match(configError({ DATA_DIR: dataDir, SECRET_KEY_FILE: join(dataDir, 'short.txt') }).problems, [/^SECRET_KEY_FILE: must be 32 bytes/]);

  const corrupt = tempDataDir(t);
  writeFileSync(join(corrupt, 'secret.key'), 'not a key\n');
  t.match(configError({ DATA_DIR: corrupt }).message, /secret\.key: must be 32 bytes/, 'a damaged generated key is reported, not replaced');
});

t.test('bad values throw one ConfigError naming every variable', async (t) => {
  const dataDir = tempDataDir(t);
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'abc' }, /^PORT: /],
    [{ PORT: '70000' }, /^PORT: /],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL: must be a postgres/],
    [{ SECRET_KEY: randomBytes(16).toString('base64') }, /^SECRET_KEY: must be 32 bytes/],
    [{ SECRET_KEY: 'not base64 at all!' }, /^SECRET_KEY: must be 32 bytes/],
    [{ DATABASE_URL: 'postgres://app@db:5432/faqchat' }, /^SECRET_KEY: required with DATABASE_URL/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: /],
    [{ TRUST_PROXY: 'maybe' }, /^TRUST_PROXY: /],
    [{ PUBLIC_URL: 'ftp://example.com' }, /^PUBLIC_URL: must be an http/],
    [{ OPENAI_BASE_URL: 'not a url' }, /^OPENAI_BASE_URL: /],
    [{ REDIS_URL: 'http://cache' }, /^REDIS_URL: must be a redis/],
  ];
  for (const [env, problem] of cases) {
    const error = configError({ DATA_DIR: dataDir, ...env });
    t.match(error.problems, [problem], JSON.stringify(env));
  }

  const many = configError({ DATA_DIR: dataDir, PORT: 'abc', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', TRUST_PROXY: 'maybe' });
  t.equal(many.problems.length, 4, many.message);
  for (const name of ['PORT', 'DATABASE_URL', 'LOG_LEVEL', 'TRUST_PROXY']) t.match(many.message, new RegExp(`- ${name}: `));
});

t.test('the built server refuses a bad environment with exit code 1 and a readable message', async (t) => {
  await ensureBuilt(t);
  const dataDir = tempDataDir(t);
  const cases: Array<{ name: string; env: Record<string, string>; expect: RegExp[] }> = [
    { name: 'PORT=abc', env: { PORT: 'abc' }, expect: [/PORT: must be a port number/] },
    { name: 'malformed DATABASE_URL', env: { DATABASE_URL: 'mysql://x', SECRET_KEY: key() }, expect: [/DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/] },
    { name: 'SECRET_KEY of 16 bytes', env: { SECRET_KEY: randomBytes(16).toString('base64') }, expect: [/SECRET_KEY: must be 32 bytes encoded as base64/, /openssl rand -base64 32/] },
    { name: 'DATABASE_URL without SECRET_KEY', env: { DATABASE_URL: 'postgres://app@127.0.0.1:1/faqchat' }, expect: [/SECRET_KEY: required with DATABASE_URL/] },
    { name: 'LOG_LEVEL=loud', env: { LOG_LEVEL: 'loud' }, expect: [/LOG_LEVEL: /] },
    { name: 'TRUST_PROXY=maybe', env: { TRUST_PROXY: 'maybe' }, expect: [/TRUST_PROXY: /] },
    {
      name: 'several at once',
      env: { PORT: 'abc', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', TRUST_PROXY: 'maybe' },
      expect: [/- PORT: /, /- DATABASE_URL: /, /- LOG_LEVEL: /, /- TRUST_PROXY: /],
    },
  ];
  // One at a time: each child loads the whole server before it reads the environment.
  for (const { name, env, expect } of cases) {
    const server = spawnServer(t, { DATA_DIR: dataDir, ...env });
    const exit = await server.exited(120_000);
    const stderr = server.stderr();
    t.same(exit, { code: 1, signal: null }, `${name}: exit code 1`);
    t.match(stderr, /^faqchat cannot start\.\nInvalid configuration:\n/, `${name}: says it cannot start`);
    for (const pattern of expect) t.match(stderr, pattern, `${name}: names the variable`);
    t.match(stderr, /See the README's configuration table/, `${name}: points to the docs`);
    t.notMatch(stderr, /\n\s+at /, `${name}: no stack trace`);
    t.equal(server.stdout(), '', `${name}: nothing on stdout`);
  }
});

t.test('.env.example documents every variable the config reads', async (t) => {
  const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
  // With every optional variable set, the parsed config carries one key per variable.
  const config = loadConfig({
    DATA_DIR: tempDataDir(t),
    SECRET_KEY: key(),
    DATABASE_URL: 'postgres://app@db:5432/faqchat',
    PUBLIC_URL: 'https://chat.example.com',
    REDIS_URL: 'redis://cache:6379',
  });
  const variables = [...Object.keys(config).filter((name) => /^[A-Z][A-Z0-9_]*$/.test(name)), 'SECRET_KEY', 'SECRET_KEY_FILE'];
  t.ok(variables.length >= 19, `found ${variables.length} variables`);
  for (const name of variables) t.match(example, new RegExp(`^# ${name}=`, 'm'), `${name} is in .env.example`);
});
