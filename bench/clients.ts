/** Load clients of the bench: an SSE client that timestamps the first delta, and helpers around autocannon. */
import { Agent, request } from 'node:http';
import { postWithTimeout } from '../test/support/http-post.js';
import autocannon from 'autocannon';

export interface SseResult {
  status: number;
  /** Milliseconds from sending the request to the first byte of the first `delta` event (NaN if none). */
  firstDeltaMs: number;
  deltas: number;
  done: boolean;
  error?: string;
}

/**
 * POSTs a chat body asking for SSE and reads the stream to its end with node:http (the same
 * client for faqchat and the relay, so its own cost cancels out of the difference).
 */
export const sseRequest = async (url: string, body: unknown, headers: Record<string, string>, agent: Agent, timeoutMs = 60_000): Promise<SseResult> => {
  const started = performance.now();
  const result: SseResult = { status: 0, firstDeltaMs: Number.NaN, deltas: 0, done: false };
  let buffer = '';
  const response = await postWithTimeout(url, JSON.stringify(body), {
    agent,
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    timeoutMs,
    onChunk: (chunk) => {
      if (Number.isNaN(result.firstDeltaMs) && chunk.includes('event: delta')) result.firstDeltaMs = performance.now() - started;
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith('event: delta')) result.deltas++;
        else if (block.startsWith('event: done')) result.done = true;
        else if (block.startsWith('event: error')) result.error = block;
      }
    },
  });
  result.status = response.status;
  if (response.error) result.error = response.error;
  return result;
};

export const percentile = (values: number[], p: number): number => {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};

/** `count` requests per target with `concurrency` in flight; targets are interleaved so drift hits both alike. */
export const measureFirstDelta = async (
  targets: Array<{ name: string; url: string; headers: Record<string, string> }>,
  options: { concurrency: number; count: number },
): Promise<Record<string, { p50: number; p99: number; failures: number; samples: number }>> => {
  const out: Record<string, { p50: number; p99: number; failures: number; samples: number }> = {};
  const samples = Object.fromEntries(targets.map((target) => [target.name, [] as number[]]));
  const failures = Object.fromEntries(targets.map((target) => [target.name, 0]));
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency * targets.length });
  // Rounds: each round runs `concurrency` requests against one target, alternating targets.
  const rounds = Math.ceil(options.count / options.concurrency);
  let serial = 0;
  for (let round = 0; round < rounds; round++) {
    for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
      const batch = await Promise.all(
        Array.from({ length: options.concurrency }, () =>
          sseRequest(target.url, { message: `What are your opening hours? #${serial++}` }, target.headers, agent),
        ),
      );
      for (const result of batch) {
        if (result.status === 200 && Number.isFinite(result.firstDeltaMs)) samples[target.name]!.push(result.firstDeltaMs);
        else failures[target.name]!++;
      }
    }
  }
  agent.destroy();
  for (const target of targets) {
    const values = samples[target.name]!;
    out[target.name] = { p50: percentile(values, 50), p99: percentile(values, 99), failures: failures[target.name]!, samples: values.length };
  }
  return out;
};

export interface Throughput {
  rps: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

export const cannon = async (options: Parameters<typeof autocannon>[0]): Promise<Throughput> => {
  const result = await autocannon(options);
  return { rps: result.requests.average, p99Ms: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts };
};

/** GET with node:http (which, unlike fetch, does not decompress): the bytes on the wire. */
export const wireBytes = (url: string, headers: Record<string, string>): Promise<{ status: number; bytes: number; encoding: string }> =>
  new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, encoding: String(res.headers['content-encoding'] ?? 'identity') }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
