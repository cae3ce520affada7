/** Child processes of the bench: spawn, wait for readiness, sample memory, stop. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../', import.meta.url));
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const freePort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
};

export interface Child {
  process: ChildProcess;
  stderr(): string;
  /** SIGTERM, then SIGKILL after 10 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

const children = new Set<ChildProcess>();
// Whatever happens to the bench, its children do not outlive it.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Only PATH/HOME from the bench's environment, plus env: no stray DATABASE_URL or SECRET_KEY. */
export const spawnChild = (args: string[], env: Record<string, string>, options: { stdout?: 'pipe' | 'ignore' } = {}): Child => {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(process.env.HOME ? { HOME: process.env.HOME } : {}), ...env },
    stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    process: child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      children.delete(child);
      return code;
    },
  };
};

/** The first stdout line of a child that announces itself as JSON (upstream and baseline processes). */
export const announced = async <T>(child: Child, timeoutMs = 20_000): Promise<T> => {
  const stdout = child.process.stdout!;
  stdout.setEncoding('utf8');
  let buffer = '';
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not start within ${timeoutMs} ms: ${child.stderr()}`)), timeoutMs);
    const onData = (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      stdout.off('data', onData);
      stdout.resume();
      resolve(JSON.parse(buffer.slice(0, newline)) as T);
    };
    stdout.on('data', onData);
    child.process.once('exit', (code) => reject(new Error(`child exited (${code}) before starting: ${child.stderr()}`)));
  });
};

/** Polls GET url until 200, at most timeoutMs; returns the elapsed milliseconds since `since`. */
export const waitFor200 = async (url: string, child: Child, since: number, timeoutMs = 60_000): Promise<number> => {
  const deadline = since + timeoutMs;
  while (performance.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`server exited (${child.process.exitCode}): ${child.stderr()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms: ${child.stderr()}`);
};

/** Resident set size and its high-water mark (bytes) of a Linux process. */
export const memoryOf = (pid: number): { rss: number; hwm: number } => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
};

/** Samples RSS every intervalMs until stopped; returns the peak seen. */
export const sampleRss = (pid: number, intervalMs = 20) => {
  let peak = 0;
  const take = () => {
    try {
      peak = Math.max(peak, memoryOf(pid).rss);
    } catch {
      // the process is gone
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop(): number {
      clearInterval(timer);
      take();
      return peak;
    },
  };
};
