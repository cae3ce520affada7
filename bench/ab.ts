/**
 * A focused A/B for one hot path on a busy machine: faqchat builds (this dist, and optionally
 * another one) and the baseline, run in alternating short rounds so load drift hits all alike.
 * Reports the median rate per target, per-round ratios to the baseline, and the server's CPU time
 * per request (utime+stime from /proc, which load on other cores barely moves). Not part of `npm run bench`.
 *
 *   node --import tsx bench/ab.ts config|chat
 *   BENCH_DATABASE_URL  PostgreSQL admin URL (required: a scratch database per build, dropped at the end)
 *   BENCH_AB_DIST       other builds' dist directories, comma-separated (each parent needs node_modules, drizzle and widget/dist, e.g. symlinks)
 *   BENCH_AB_ROUNDS     rounds (default 6), BENCH_AB_SECONDS per run (default 3)
 *   BENCH_CPU_PROF      a directory: the faqchat processes run with --cpu-prof
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { cannon } from './clients.js';
import { announced, freePort, repoRoot, spawnChild, waitFor200 } from './processes.js';

const phase = process.argv[2];
if (phase !== 'config' && phase !== 'chat') throw new Error('usage: bench/ab.ts config|chat');
const adminUrl = process.env.BENCH_DATABASE_URL;
if (!adminUrl) throw new Error('BENCH_DATABASE_URL is required');
const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 6);
const SECONDS = Number(process.env.BENCH_AB_SECONDS ?? 3);
/** CPU seconds (user + system) a Linux process has used so far. */
const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
const stops: Array<() => Promise<unknown>> = [];
try {
  const upstreamChild = spawnChild(['--import', 'tsx', join(repoRoot, 'bench', 'upstream-process.ts')], { BENCH_FIRST_TOKEN_MS: '0' });
  stops.push(() => upstreamChild.stop());
  const upstream = await announced<{ url: string }>(upstreamChild);
  const baselineChild = spawnChild(['--import', 'tsx', join(repoRoot, 'bench', 'baseline-process.ts')], { OPENAI_BASE_URL: `${upstream.url}/v1` });
  stops.push(() => baselineChild.stop());
  const baseline = await announced<{ url: string }>(baselineChild);

  const builds = [{ name: 'this', dist: join(repoRoot, 'dist') }, ...(process.env.BENCH_AB_DIST ?? '').split(',').filter(Boolean).map((dist, index) => ({ name: `other${index + 1}`, dist }))];
  const targets: Array<{ name: string; url: string; headers: Record<string, string>; pid: number }> = [];
  for (const build of builds) {
    const name = `faqchat_ab_${randomBytes(5).toString('hex')}`;
    await admin.unsafe(`create database "${name}"`);
    stops.push(() => admin.unsafe(`drop database if exists "${name}" with (force)`));
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const port = await freePort();
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    const child = spawnChild([...profile, join(build.dist, 'server.js')], {
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: url.toString(),
      SECRET_KEY: randomBytes(32).toString('base64'),
      OPENAI_BASE_URL: `${upstream.url}/v1`,
      RATE_LIMIT_VISITOR_PER_MINUTE: '1000000000',
      RATE_LIMIT_KEY_PER_MINUTE: '1000000000',
    }, { stdout: 'ignore' });
    stops.push(() => child.stop());
    const base = `http://127.0.0.1:${port}`;
    await waitFor200(`${base}/health`, child, performance.now());
    const post = async (path: string, body: unknown, headers: Record<string, string> = {}, method = 'POST') => {
      const response = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      if (response.status >= 300) throw new Error(`${path} answered ${response.status}`);
      return (await response.json()) as Record<string, string>;
    };
    const { token } = await post('/v1/auth/signup', { email: `ab-${randomBytes(4).toString('hex')}@example.com`, password: `pw-${randomBytes(12).toString('hex')}` });
    const auth = { authorization: `Bearer ${token}` };
    await post('/v1/configuration', { faqText: 'Q: What are your opening hours?\nA: Monday to Friday, 9:00 to 17:00.', openAiApiKey: `sk-ab-${randomBytes(16).toString('hex')}` }, auth, 'PUT');
    const { key } = await post('/v1/api-key', {}, auth);
    targets.push({ name: build.name, url: `${base}/v1/widget/${phase}`, headers: { 'x-widget-key': key! }, pid: child.process.pid! });
  }
  targets.push({ name: phase === 'config' ? 'hello' : 'relay', url: `${baseline.url}/${phase === 'config' ? 'hello' : 'relay'}`, headers: {}, pid: baselineChild.process.pid! });

  const body = JSON.stringify({ message: 'What are your opening hours?' });
  const run = (target: (typeof targets)[number], duration: number) =>
    phase === 'config'
      ? cannon({ url: target.url, headers: target.headers, connections: 100, pipelining: 10, duration })
      : cannon({ url: target.url, method: 'POST', headers: { 'content-type': 'application/json', ...target.headers }, body, connections: 20, duration });
  for (const target of targets) await run(target, 1);
  const rates = Object.fromEntries(targets.map((target) => [target.name, [] as number[]]));
  const cpuPerRequest = Object.fromEntries(targets.map((target) => [target.name, [] as number[]]));
  const ratios = Object.fromEntries(builds.map((build) => [build.name, [] as number[]]));
  const baselineName = targets.at(-1)!.name;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    const got: Record<string, number> = {};
    for (const target of order) {
      const before = cpuSeconds(target.pid);
      const result = await run(target, SECONDS);
      got[target.name] = result.rps;
      cpuPerRequest[target.name]!.push(((cpuSeconds(target.pid) - before) * 1e6) / (result.rps * SECONDS));
    }
    for (const target of targets) rates[target.name]!.push(got[target.name]!);
    for (const build of builds) ratios[build.name]!.push(got[build.name]! / got[baselineName]!);
    process.stderr.write(`round ${round + 1}: ${targets.map((target) => `${target.name} ${Math.round(got[target.name]!)}/s`).join(', ')}\n`);
  }
  console.log(`${phase}: ${ROUNDS} rounds x ${SECONDS} s, load average ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  for (const target of targets) console.log(`  ${target.name.padEnd(6)} median ${Math.round(median(rates[target.name]!))}/s, CPU per request median ${Math.round(median(cpuPerRequest[target.name]!))} µs (rounds ${cpuPerRequest[target.name]!.map((value) => Math.round(value)).join(' ')})`);
  for (const build of builds) console.log(`  ${build.name.padEnd(6)} / ${baselineName}: median ratio ${median(ratios[build.name]!).toFixed(2)} (rounds ${ratios[build.name]!.map((value) => value.toFixed(2)).join(' ')})`);
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => {});
  await admin.end({ timeout: 5 });
}
