/** One bounded POST over node:http, shared by the resilience tests and the bench's load clients. */
import { type Agent, request } from 'node:http';

export interface PostedResponse {
  /** HTTP status, or 0 when no answer came (connection refused, reset, client timeout). */
  status: number;
  contentType: string;
  /** The whole body, unless onChunk consumed it. */
  body: string;
  error?: string;
}

/**
 * POSTs `payload` and resolves — never rejects — when the response ends, fails or `timeoutMs`
 * passes. With `onChunk` the body is streamed to it instead of collected.
 */
export const postWithTimeout = (
  url: string,
  payload: string,
  options: { headers: Record<string, string>; agent?: Agent | false; timeoutMs: number; onChunk?: (chunk: string) => void },
): Promise<PostedResponse> =>
  new Promise((resolve) => {
    const response: PostedResponse = { status: 0, contentType: '', body: '' };
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) response.error = error;
      resolve(response);
    };
    const req = request(
      url,
      {
        method: 'POST',
        ...(options.agent !== undefined ? { agent: options.agent } : {}),
        headers: { 'content-length': Buffer.byteLength(payload), ...options.headers },
      },
      (res) => {
        response.status = res.statusCode ?? 0;
        response.contentType = String(res.headers['content-type'] ?? '');
        res.setEncoding('utf8');
        res.on('data', options.onChunk ?? ((chunk: string) => (response.body += chunk)));
        res.on('end', () => finish());
        res.on('error', (error) => finish(error.message));
        res.on('aborted', () => finish('aborted'));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish('client timeout');
    }, options.timeoutMs);
    req.on('error', (error) => finish(error.message));
    req.end(payload);
  });
