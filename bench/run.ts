/**
 * `npm run bench`: faqchat against a bare Fastify relay and a bare hello-world, side by side,
 * all on loopback, each server in its own process (RSS is per process, and the load client
 * must not share an event loop with the server it measures). Prints a table and writes
 * bench/results.json. Every phase is bounded in requests and time.
 *
 *   BENCH_DATABASE_URL  PostgreSQL admin URL: a scratch database is created and dropped (else PGlite in a temp dir)
 *   BENCH_FIRST_TOKEN_MS upstream delay before the first token in the first-token phase (default 0)
 *   BENCH_TOKEN_GAP_MS  upstream gap between tokens in the streaming phase (default 20)
 *   BENCH_DURATION_S    seconds per autocannon run (default 5)
 *   BENCH_STREAMS       concurrent streams in the capacity phase (default 1000)
 *   BENCH_LOG_LEVEL     faqchat LOG_LEVEL (default warn: request logs off, as behind a proxy that logs)
 *   BENCH_CPU_PROF      a directory: faqchat runs with --cpu-prof and writes its profiles there (bench/profile-summary.ts reads them)
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { cannon, measureFirstDelta, sseRequest, wireBytes } from './clients.js';
import { announced, type Child, freePort, memoryOf, repoRoot, sampleRss, spawnChild, waitFor200 } from './processes.js';

const env = process.env;
const FIRST_TOKEN_MS = Number(env.BENCH_FIRST_TOKEN_MS ?? 0);
const TOKEN_GAP_MS = Number(env.BENCH_TOKEN_GAP_MS ?? 20);
const DURATION_S = Number(env.BENCH_DURATION_S ?? 5);
const STREAMS = Number(env.BENCH_STREAMS ?? 1000);
const LOG_LEVEL = env.BENCH_LOG_LEVEL ?? 'warn';
const STREAM_TOKENS = 64;
const MB = 1024 * 1024;

const benchStarted = performance.now();
const log = (message: string) => process.stderr.write(`[bench ${((performance.now() - benchStarted) / 1000).toFixed(1)}s] ${message}\n`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

const cleanups: Array<() => Promise<unknown> | unknown> = [];
const cleanUp = async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch((error: unknown) => log(`cleanup: ${String(error)}`));
};
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

const serverEntry = join(repoRoot, 'dist', 'server.js');

/** `node dist/server.js` as `npm start` runs it (after the build), on a free port. */
const startFaqchat = async (extraEnv: Record<string, string>): Promise<{ child: Child; url: string; startMs: number }> => {
  const port = await freePort();
  const started = performance.now();
  // stdout ignored: with LOG_LEVEL=info its lines would cost the bench process CPU, not the server's.
  const profile = env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF}`] : [];
  const child = spawnChild([...profile, serverEntry], { PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: LOG_LEVEL, ...extraEnv }, { stdout: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const startMs = await waitFor200(`${url}/health`, child, started);
  return { child, url, startMs };
};

const postJson = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const json = (await response.json()) as Record<string, unknown>;
  if (response.status >= 300) throw new Error(`${url} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
};

/** Sign up, configure and create a widget key through the public API, as an owner would. */
const createOwner = async (url: string): Promise<string> => {
  const { token } = (await postJson(`${url}/v1/auth/signup`, { email: `bench-${randomBytes(4).toString('hex')}@example.com`, password: `pw-${randomBytes(12).toString('hex')}` })) as { token: string };
  const auth = { authorization: `Bearer ${token}` };
  const configured = await fetch(`${url}/v1/configuration`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ faqText: 'Q: What are your opening hours?\nA: Monday to Friday, 9:00 to 17:00.', openAiApiKey: `sk-bench-${randomBytes(16).toString('hex')}` }),
  });
  if (configured.status >= 300) throw new Error(`PUT /v1/configuration answered ${configured.status}: ${await configured.text()}`);
  const { key } = (await postJson(`${url}/v1/api-key`, {}, auth)) as { key: string };
  return key;
};

const main = async () => {
  log('building (npm run build)');
  await promisify(execFile)('npm', ['run', 'build', '--silent'], { cwd: repoRoot });

  // 6. Start-up: node dist/server.js → first 200 from /health, embedded database in a temp DATA_DIR.
  log('start-up: fresh and existing DATA_DIR');
  const startup = { firstStartMs: 0, restartMs: [] as number[] };
  const startupEnv = { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' };
  const startupDir = tempDir('faqchat-bench-start-');
  // The first start runs PGlite's initdb and the migrations; the restarts are what `npm start` costs every day.
  const first = await startFaqchat({ ...startupEnv, DATA_DIR: startupDir });
  await first.child.stop();
  startup.firstStartMs = Math.round(first.startMs);
  for (let run = 0; run < 3; run++) {
    const again = await startFaqchat({ ...startupEnv, DATA_DIR: startupDir });
    await again.child.stop();
    startup.restartMs.push(Math.round(again.startMs));
  }

  log('starting the fake upstream, the baselines and faqchat');
  const upstreamChild = spawnChild(['--import', 'tsx', join(repoRoot, 'bench', 'upstream-process.ts')], { BENCH_FIRST_TOKEN_MS: String(FIRST_TOKEN_MS) });
  cleanups.push(() => upstreamChild.stop());
  const upstream = await announced<{ url: string; control: string }>(upstreamChild);
  const script = async (patch: Record<string, unknown>) => {
    await (await fetch(`${upstream.control}/script`, { method: 'POST', body: JSON.stringify(patch) })).arrayBuffer();
  };

  const baselineChild = spawnChild(['--import', 'tsx', join(repoRoot, 'bench', 'baseline-process.ts')], { OPENAI_BASE_URL: `${upstream.url}/v1` });
  cleanups.push(() => baselineChild.stop());
  const baseline = await announced<{ url: string }>(baselineChild);

  let database: { kind: string; env: Record<string, string> };
  if (env.BENCH_DATABASE_URL) {
    const name = `faqchat_bench_${randomBytes(5).toString('hex')}`;
    const admin = postgres(env.BENCH_DATABASE_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    cleanups.push(async () => {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 5 });
    });
    const url = new URL(env.BENCH_DATABASE_URL);
    url.pathname = `/${name}`;
    database = { kind: `PostgreSQL (scratch database on ${url.host})`, env: { DATABASE_URL: url.toString(), SECRET_KEY: randomBytes(32).toString('base64') } };
  } else {
    // The start-up phase's DATA_DIR is already initialised: the bench does not pay initdb twice.
    database = { kind: 'PGlite (embedded, temp DATA_DIR)', env: { DATA_DIR: startupDir } };
  }
  const faqchat = await startFaqchat({
    ...database.env,
    OPENAI_BASE_URL: `${upstream.url}/v1`,
    RATE_LIMIT_VISITOR_PER_MINUTE: '1000000000',
    RATE_LIMIT_KEY_PER_MINUTE: '1000000000',
  });
  cleanups.push(() => faqchat.child.stop());
  const faqchatPid = faqchat.child.process.pid!;
  const idleRss = memoryOf(faqchatPid).rss;
  const key = await createOwner(faqchat.url);
  const widgetHeaders = { 'x-widget-key': key };
  const chatTargets = [
    { name: 'faqchat', url: `${faqchat.url}/v1/widget/chat`, headers: widgetHeaders },
    { name: 'relay', url: `${baseline.url}/relay`, headers: {} },
  ];

  // 1. Time to first delta, faqchat vs the bare relay.
  log(`first token: warm-up, then c=1 and c=50 (upstream first-token delay ${FIRST_TOKEN_MS} ms)`);
  await script({ reply: 'x'.repeat(64), deltas: 8, firstTokenDelayMs: FIRST_TOKEN_MS, tokenGapMs: 0 });
  await measureFirstDelta(chatTargets, { concurrency: 10, count: 50 });
  const ttftC1 = await measureFirstDelta(chatTargets, { concurrency: 1, count: 150 });
  const ttftC50 = await measureFirstDelta(chatTargets, { concurrency: 50, count: 500 });

  // 2. Chat throughput in JSON mode, upstream without delay, persistence included.
  log('chat throughput (JSON mode)');
  await script({ firstTokenDelayMs: 0, tokenGapMs: 0 });
  const chatBody = JSON.stringify({ message: 'What are your opening hours?' });
  const chatLoad = (url: string, headers: Record<string, string>, duration: number) =>
    cannon({ url, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: chatBody, connections: 20, duration });
  await chatLoad(`${faqchat.url}/v1/widget/chat`, widgetHeaders, 1);
  await chatLoad(`${baseline.url}/relay`, {}, 1);
  const chatFaqchat = await chatLoad(`${faqchat.url}/v1/widget/chat`, widgetHeaders, DURATION_S);
  const chatRelay = await chatLoad(`${baseline.url}/relay`, {}, DURATION_S);

  // 3. /v1/widget/config against hello-world.
  log('widget config throughput');
  const getLoad = (url: string, headers: Record<string, string>, duration: number) => cannon({ url, headers, connections: 100, pipelining: 10, duration });
  await getLoad(`${faqchat.url}/v1/widget/config`, widgetHeaders, 1);
  await getLoad(`${baseline.url}/hello`, {}, 1);
  const configFaqchat = await getLoad(`${faqchat.url}/v1/widget/config`, widgetHeaders, DURATION_S);
  const hello = await getLoad(`${baseline.url}/hello`, {}, DURATION_S);

  // 4. Streaming capacity: STREAMS concurrent streams of 64 tokens each.
  log(`streaming capacity: ${STREAMS} concurrent streams x ${STREAM_TOKENS} tokens, ${TOKEN_GAP_MS} ms apart`);
  await script({ reply: 'y'.repeat(STREAM_TOKENS), deltas: STREAM_TOKENS, firstTokenDelayMs: 0, tokenGapMs: TOKEN_GAP_MS });
  const capacity = async (target: (typeof chatTargets)[number], pid: number) => {
    const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
    const before = memoryOf(pid).rss;
    const sampler = sampleRss(pid);
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: STREAMS }, (_, index) => sseRequest(target.url, { message: `Stream ${index}` }, target.headers, agent, 90_000)),
    );
    const elapsedMs = performance.now() - started;
    const peak = sampler.stop();
    agent.destroy();
    const complete = results.filter((result) => result.status === 200 && result.done && result.deltas === STREAM_TOKENS).length;
    return {
      streams: STREAMS,
      complete,
      framesLost: results.reduce((lost, result) => lost + (STREAM_TOKENS - Math.min(STREAM_TOKENS, result.deltas)), 0),
      non200: results.filter((result) => result.status !== 200).length,
      errors: [...new Set(results.flatMap((result) => (result.error ? [result.error.slice(0, 120)] : [])))].slice(0, 5),
      rssBeforeMb: round(before / MB, 1),
      rssPeakMb: round(peak / MB, 1),
      elapsedMs: Math.round(elapsedMs),
    };
  };
  const streamsFaqchat = await capacity(chatTargets[0]!, faqchatPid);
  const streamsRelay = await capacity(chatTargets[1]!, baselineChild.process.pid!);
  const faqchatHwm = memoryOf(faqchatPid).hwm;

  // 5. Widget weight on the wire.
  log('widget weight');
  const widgetRaw = await wireBytes(`${faqchat.url}/widget.js`, {});
  const widgetGzip = await wireBytes(`${faqchat.url}/widget.js`, { 'accept-encoding': 'gzip' });

  log('stopping');
  const faqchatExit = await faqchat.child.stop();

  const cpu = cpus();
  const results = {
    date: new Date().toISOString(),
    machine: { cpuModel: cpu[0]?.model ?? 'unknown', cores: cpu.length, memoryGiB: round(totalmem() / 1024 ** 3, 1), node: process.version, loadAverageAtEnd: loadavg().map((value) => round(value)), platform: `${process.platform} ${process.arch}` },
    settings: { database: database.kind, firstTokenDelayMs: FIRST_TOKEN_MS, tokenGapMs: TOKEN_GAP_MS, durationS: DURATION_S, logLevel: LOG_LEVEL },
    firstToken: {
      c1: { faqchat: ttftC1.faqchat, relay: ttftC1.relay, addedP50Ms: round(ttftC1.faqchat!.p50 - ttftC1.relay!.p50), addedP99Ms: round(ttftC1.faqchat!.p99 - ttftC1.relay!.p99) },
      c50: { faqchat: ttftC50.faqchat, relay: ttftC50.relay, addedP50Ms: round(ttftC50.faqchat!.p50 - ttftC50.relay!.p50), addedP99Ms: round(ttftC50.faqchat!.p99 - ttftC50.relay!.p99) },
    },
    chatJson: { faqchat: chatFaqchat, relay: chatRelay, ratio: round(chatFaqchat.rps / chatRelay.rps) },
    widgetConfig: { faqchat: configFaqchat, helloWorld: hello, ratio: round(configFaqchat.rps / hello.rps) },
    streaming: { faqchat: streamsFaqchat, relay: streamsRelay, faqchatIdleRssMb: round(idleRss / MB, 1), faqchatLifetimeHwmMb: round(faqchatHwm / MB, 1) },
    widget: { rawBytes: widgetRaw.bytes, gzipBytes: widgetGzip.bytes, gzipEncoding: widgetGzip.encoding },
    startup: { firstStartMs: startup.firstStartMs, restartMedianMs: Math.round(median(startup.restartMs)), runs: startup },
    faqchatExitCode: faqchatExit,
    benchSeconds: round((performance.now() - benchStarted) / 1000, 1),
  };
  writeFileSync(join(repoRoot, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);

  const ms = (value: number) => `${round(value)} ms`;
  const rps = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;
  const ok = (pass: boolean) => (pass ? 'ok' : 'MISSED');
  const rows: string[][] = [
    ['metric', 'faqchat', 'baseline', 'result', 'target', ''],
    ['first delta c=1 p50', ms(ttftC1.faqchat!.p50), ms(ttftC1.relay!.p50), `+${ms(results.firstToken.c1.addedP50Ms)}`, '≤ +1 ms', ok(results.firstToken.c1.addedP50Ms <= 1)],
    ['first delta c=1 p99', ms(ttftC1.faqchat!.p99), ms(ttftC1.relay!.p99), `+${ms(results.firstToken.c1.addedP99Ms)}`, '—', ''],
    ['first delta c=50 p50', ms(ttftC50.faqchat!.p50), ms(ttftC50.relay!.p50), `+${ms(results.firstToken.c50.addedP50Ms)}`, '—', ''],
    ['first delta c=50 p99', ms(ttftC50.faqchat!.p99), ms(ttftC50.relay!.p99), `+${ms(results.firstToken.c50.addedP99Ms)}`, '—', ''],
    ['chat JSON throughput (c=20)', rps(chatFaqchat.rps), rps(chatRelay.rps), `${results.chatJson.ratio}x`, '≥ 0.6x', ok(results.chatJson.ratio >= 0.6)],
    ['widget config (c=100 p=10)', rps(configFaqchat.rps), rps(hello.rps), `${results.widgetConfig.ratio}x`, '≥ 0.8x', ok(results.widgetConfig.ratio >= 0.8)],
    [`${STREAMS} streams: frames lost`, String(streamsFaqchat.framesLost), String(streamsRelay.framesLost), `${streamsFaqchat.complete}/${STREAMS} complete`, '0', ok(streamsFaqchat.framesLost === 0)],
    [`${STREAMS} streams: RSS peak`, `${streamsFaqchat.rssPeakMb} MB`, `${streamsRelay.rssPeakMb} MB`, `idle ${results.streaming.faqchatIdleRssMb} MB`, '≤ 200 MB', ok(streamsFaqchat.rssPeakMb <= 200)],
    ['widget.js', `${widgetRaw.bytes} B raw`, '—', `${widgetGzip.bytes} B gzip`, '≤ 6144 B gzip', ok(widgetGzip.bytes <= 6144)],
    ['start-up to /health 200 (median)', `${results.startup.restartMedianMs} ms restart`, '—', `${results.startup.firstStartMs} ms first start`, '—', ''],
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  console.log(`\nfaqchat bench — ${results.machine.cpuModel} x${results.machine.cores}, Node ${process.version}, ${database.kind}`);
  console.log(line(rows[0]!));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows.slice(1)) console.log(line(row));
  console.log(`\nnon-2xx/errors: chat ${chatFaqchat.non2xx}/${chatFaqchat.errors}, relay ${chatRelay.non2xx}/${chatRelay.errors}, config ${configFaqchat.non2xx}/${configFaqchat.errors}; ttft failures faqchat ${ttftC1.faqchat!.failures + ttftC50.faqchat!.failures}`);
  if (streamsFaqchat.errors.length > 0) console.log(`stream errors: ${streamsFaqchat.errors.join(' | ')}`);
  console.log(`results: bench/results.json (${results.benchSeconds} s)`);
};

// The whole bench is bounded: a stuck phase cannot keep it (or its children) alive.
const watchdog = setTimeout(() => {
  log('bench exceeded 6 minutes; aborting');
  void cleanUp().finally(() => process.exit(2));
}, 6 * 60_000);
watchdog.unref();

try {
  await main();
} catch (error) {
  log(`failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
  clearTimeout(watchdog);
}
