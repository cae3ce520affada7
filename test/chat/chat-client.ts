/** Test helpers to talk to a listening app: SSE parsing, chat calls, waiting for rows. */
import { buildTestApp, type DatabaseKind, type TestApp, type TestContext } from '../helpers/app.js';
import { type FakeOpenAi, startFakeOpenAi } from '../support/fake-openai.js';

export interface SseEvent {
  event: string;
  data: unknown;
}

/** Parses a complete text/event-stream body into events (comment lines ignored). */
export const parseSse = (text: string): SseEvent[] =>
  text
    .replace(/\r/g, '')
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .flatMap((block) => {
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      return data.length > 0 ? [{ event, data: JSON.parse(data.join('\n')) as unknown }] : [];
    });

export const listenUrl = (app: { server: { address(): unknown } }): string => {
  const address = app.server.address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
};

/** Polls `check` until it returns a truthy value (no wall-clock assertion: the test timeout bounds it). */
export const eventually = async <T>(check: () => Promise<T | null | undefined | false>, intervalMs = 20): Promise<T> => {
  for (;;) {
    const value = await check();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
};

export interface ChatTestApp extends TestApp {
  fake: FakeOpenAi;
  /** http://127.0.0.1:PORT of the listening app */
  url: string;
}

/** A fake upstream plus the real app pointed at it, listening on a random port. */
export const startChatApp = async (
  t: TestContext,
  options: { kind?: DatabaseKind; env?: Record<string, string>; logStream?: NodeJS.WritableStream; fake?: FakeOpenAi } = {},
): Promise<ChatTestApp> => {
  const fake = options.fake ?? (await startFakeOpenAi());
  if (!options.fake) t.teardown(() => fake.close());
  const testApp = await buildTestApp(t, {
    ...(options.kind ? { kind: options.kind } : {}),
    ...(options.logStream ? { logStream: options.logStream } : {}),
    env: { OPENAI_BASE_URL: `${fake.url}/v1`, ...options.env },
  });
  await testApp.app.listen({ port: 0, host: '127.0.0.1' });
  return { ...testApp, fake, url: listenUrl(testApp.app) };
};

export interface SseResponse {
  status: number;
  headers: Headers;
  events: SseEvent[];
  body: string;
}

/** POSTs a question asking for a stream and reads it to the end. */
export const chatStream = async (
  url: string,
  key: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<SseResponse> => {
  const response = await fetch(`${url}/v1/widget/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-widget-key': key, ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const isStream = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
  return { status: response.status, headers: response.headers, events: isStream ? parseSse(text) : [], body: text };
};
