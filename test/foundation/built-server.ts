// Runs the BUILT server (dist/server.js) as a child process, the way operators run it.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const serverEntry = join(repoRoot, 'dist', 'server.js');

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a tap test object offers that these helpers need. */
export interface TestContext {
  teardown(fn: () => unknown): void;
  comment(...message: unknown[]): void;
}

/** dist/ is stale when a src/*.ts has no compiled twin or is newer than it. */
const staleSources = (): string[] => {
  const srcDir = join(repoRoot, 'src');
  const stale: string[] = [];
  for (const entry of readdirSync(srcDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
    const source = join(entry.parentPath, entry.name);
    const compiled = join(repoRoot, 'dist', relative(srcDir, source).replace(/\.ts$/, '.js'));
    if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(source).mtimeMs) stale.push(relative(repoRoot, source));
  }
  return stale;
};

/**
 * Makes sure dist/ matches src/ (and the widget bundle exists), building under a lock
 * because tap runs test files in parallel. Returns the path of dist/server.js.
 */
export const ensureBuilt = async (t: TestContext): Promise<string> => {
  const lock = join(repoRoot, 'node_modules', '.cache', 'faqchat', 'build.lock');
  mkdirSync(join(lock, '..'), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock left by a killed run is older than any real build.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${lock}`);
      await sleep(200);
    }
  }
  try {
    const stale = staleSources();
    if (!existsSync(join(repoRoot, 'widget', 'dist', 'widget.js'))) stale.push('widget/dist/widget.js');
    if (stale.length > 0) {
      t.comment(`npm run build (stale: ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''})`);
      await run('npm', ['run', 'build', '--silent'], { cwd: repoRoot });
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  if (!existsSync(serverEntry)) throw new Error(`${serverEntry} is missing after the build`);
  return serverEntry;
};

/** Only what the child needs: nothing of the test runner's own DATABASE_URL, SECRET_KEY… leaks in. */
export const childEnv = (env: Record<string, string>): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
  ...env,
});

export const freePort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
};

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningServer {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited (at most timeoutMs, else rejects with its output). */
  exited(timeoutMs?: number): Promise<Exit>;
  /** Sends signal and waits for the exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

/** Spawns `node dist/server.js`; the child is killed at teardown whatever happens. */
export const spawnServer = (t: TestContext, env: Record<string, string>, port = Number(env.PORT ?? 0)): RunningServer => {
  const child = spawn(process.execPath, [serverEntry], { cwd: repoRoot, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  const exited = async (timeoutMs = 60_000): Promise<Exit> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`server did not exit within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([exit, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    child,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    stop: (signal = 'SIGTERM', timeoutMs = 60_000) => {
      child.kill(signal);
      return exited(timeoutMs);
    },
  };
};

/** Polls GET url until it answers 200 (bounded); fails with the server's output if it never does. */
export const waitUntilAnswering = async (server: RunningServer, path = '/health', timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`server exited (${server.child.exitCode ?? server.child.signalCode}) before answering ${path}\nstdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`);
    }
    try {
      const response = await fetch(`${server.baseUrl}${path}`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`server did not answer GET ${path} within ${timeoutMs} ms (${last})\nstdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`);
};

/** pino writes one JSON object per line when stdout is not a TTY. */
export const logLines = (stdout: string): Array<Record<string, unknown>> =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** Waits (bounded) until a log line matching predicate has been written. */
export const waitForLog = async (
  server: RunningServer,
  predicate: (line: Record<string, unknown>) => boolean,
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = logLines(server.stdout()).find(predicate);
    if (found) return found;
    await sleep(50);
  }
  throw new Error(`expected log line not written within ${timeoutMs} ms\nstdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`);
};
