/**
 * A local OpenAI-compatible server for tests, browser tests and benchmarks.
 *
 * It is a real node:http server on 127.0.0.1 (random port) that speaks
 * `POST /v1/chat/completions`, both plain JSON and streamed (SSE: `data: {chunk}\n\n` …,
 * a final usage chunk when `stream_options.include_usage` is true, then `data: [DONE]`).
 *
 *   const fake = await startFakeOpenAi();            // listening; fake.url = 'http://127.0.0.1:PORT'
 *   env: { OPENAI_BASE_URL: `${fake.url}/v1` }        // point the app at it
 *   fake.script({ reply: 'Hello there', deltas: 3 }); // how the next requests are answered
 *   fake.failNext(1, { status: 429, retryAfter: 1 });  // the next K requests fail, then the script applies
 *   fake.requests                                      // every request seen: headers (incl. authorization), body
 *   await fake.nextClientClose()                       // resolves when a client hangs up mid-stream
 *   await fake.close()                                 // destroys every open socket
 *
 * Script options (all optional, persistent until changed; `reset()` restores the defaults):
 * - `reply`            the answer text (default 'This is the answer from the FAQ.')
 * - `deltas`           how many delta chunks the reply is split into (default 3)
 * - `firstTokenDelayMs` wait after sending the response headers, before the first delta
 * - `tokenGapMs`       wait between deltas
 * - `cutAfterDeltas`   destroy the socket after sending this many deltas (a broken upstream)
 * - `usage`            the token counts reported (default { prompt_tokens: 42, completion_tokens: 7 })
 *
 * Failures (`failNext(count, failure)`): `status` 401 | 403 | 429 | 500 | 503 …, optional
 * `code` (e.g. 'insufficient_quota'), optional `retryAfter` seconds (sent as Retry-After).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeScript {
  reply: string;
  deltas: number;
  firstTokenDelayMs: number;
  tokenGapMs: number;
  cutAfterDeltas: number | null;
  usage: { prompt_tokens: number; completion_tokens: number };
}

export interface FakeFailure {
  status: number;
  code?: string;
  retryAfter?: number;
  message?: string;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body (undefined when it was not JSON). */
  body: ChatBody | undefined;
  /** True when the client closed its socket before the response finished. */
  clientClosedEarly: boolean;
}

export interface ChatBody {
  model?: string;
  messages?: Array<{ role: string; content: string }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  [other: string]: unknown;
}

const defaults = (): FakeScript => ({
  reply: 'This is the answer from the FAQ.',
  deltas: 3,
  firstTokenDelayMs: 0,
  tokenGapMs: 0,
  cutAfterDeltas: null,
  usage: { prompt_tokens: 42, completion_tokens: 7 },
});

/** Splits text into `count` roughly equal, non-empty pieces (fewer if the text is short). */
export const splitIntoDeltas = (text: string, count: number): string[] => {
  const pieces = Math.max(1, Math.min(count, text.length));
  const size = Math.ceil(text.length / pieces);
  const out: string[] = [];
  for (let index = 0; index < text.length; index += size) out.push(text.slice(index, index + size));
  return out.length > 0 ? out : [''];
};

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

export interface FakeOpenAi {
  /** Base URL without the /v1 suffix, e.g. http://127.0.0.1:43210 */
  url: string;
  requests: RecordedRequest[];
  /** Change how the following requests are answered (merged into the current script). */
  script(patch: Partial<FakeScript>): void;
  /** The next `count` requests fail with this failure. */
  failNext(count: number, failure: FakeFailure): void;
  /** Back to the default script, no pending failures, no recorded requests. */
  reset(): void;
  /** Resolves with the request whose client hung up before the response finished. */
  nextClientClose(): Promise<RecordedRequest>;
  close(): Promise<void>;
}

export const startFakeOpenAi = async (initial: Partial<FakeScript> = {}): Promise<FakeOpenAi> => {
  let current: FakeScript = { ...defaults(), ...initial };
  const failures: FakeFailure[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const closeWaiters: Array<(request: RecordedRequest) => void> = [];
  const earlyCloses: RecordedRequest[] = [];

  const noteEarlyClose = (record: RecordedRequest) => {
    record.clientClosedEarly = true;
    const waiter = closeWaiters.shift();
    if (waiter) waiter(record);
    else earlyCloses.push(record);
  };

  const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: ChatBody | undefined;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatBody;
    } catch {
      body = undefined;
    }
    const record: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, clientClosedEarly: false };
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      return sendJson(res, 404, { error: { message: 'not found', type: 'invalid_request_error', code: null } });
    }
    requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished) noteEarlyClose(record);
    });

    const failure = failures.shift();
    if (failure) {
      const headers: Record<string, string> = {};
      if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter);
      return sendJson(
        res,
        failure.status,
        {
          error: {
            message: failure.message ?? `fake failure ${failure.status}`,
            type: failure.status === 429 ? 'requests' : 'server_error',
            code: failure.code ?? null,
          },
        },
        headers,
      );
    }

    const script = current;
    const id = `chatcmpl-fake-${requests.length}`;
    const model = body?.model ?? 'fake-model';
    const created = Math.floor(Date.now() / 1000);
    const pieces = splitIntoDeltas(script.reply, script.deltas);

    if (!body?.stream) {
      await sleep(script.firstTokenDelayMs);
      return sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: script.reply }, finish_reason: 'stop' }],
        usage: { ...script.usage, total_tokens: script.usage.prompt_tokens + script.usage.completion_tokens },
      });
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const write = (data: unknown) => {
      if (!res.destroyed) res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
    };
    const chunk = (delta: Record<string, unknown>, finishReason: string | null) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    });

    await sleep(script.firstTokenDelayMs);
    write(chunk({ role: 'assistant', content: '' }, null));
    for (const [index, piece] of pieces.entries()) {
      if (res.destroyed) return;
      if (index > 0) await sleep(script.tokenGapMs);
      write(chunk({ content: piece }, null));
      if (script.cutAfterDeltas !== null && index + 1 >= script.cutAfterDeltas) {
        // A broken upstream: the connection dies mid-answer.
        await sleep(10);
        res.socket?.destroy();
        return;
      }
    }
    write(chunk({}, 'stop'));
    if (body.stream_options?.include_usage) {
      write({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [],
        usage: { ...script.usage, total_tokens: script.usage.prompt_tokens + script.usage.completion_tokens },
      });
    }
    write('[DONE]');
    res.end();
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script(patch) {
      current = { ...current, ...patch };
    },
    failNext(count, failure) {
      for (let index = 0; index < count; index++) failures.push(failure);
    },
    reset() {
      current = defaults();
      failures.length = 0;
      requests.length = 0;
      earlyCloses.length = 0;
    },
    nextClientClose() {
      const already = earlyCloses.shift();
      if (already) return Promise.resolve(already);
      return new Promise((resolve) => closeWaiters.push(resolve));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
