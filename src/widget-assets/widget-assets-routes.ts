import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemSchema } from '../errors.js';

/** Same folder from src/ (tsx) and dist/ (built): both sit two levels under the project root. */
const DIST_DIR = new URL('../../widget/dist/', import.meta.url);

/**
 * The URL /widget.js is not versioned (owners paste it once), so browsers may reuse a copy
 * for 5 minutes, then revalidate in the background for a day: a release reaches every
 * visitor within minutes while repeat page views cost no round trip.
 */
const CACHE_CONTROL = 'public, max-age=300, stale-while-revalidate=86400';

export const WIDGET_KEY_PATTERN = /^pk_[A-Za-z0-9_-]{10,64}$/;

const readWidget = (): { plain: Buffer; gzipped: Buffer } => {
  try {
    return { plain: readFileSync(new URL('widget.js', DIST_DIR)), gzipped: readFileSync(new URL('widget.js.gz', DIST_DIR)) };
  } catch (error) {
    throw new Error(`The widget is not built (${fileURLToPath(DIST_DIR)} has no widget.js / widget.js.gz): run \`npm run build\` first.`, {
      cause: error,
    });
  }
};

/** True when Accept-Encoding allows gzip (a `q=0` refuses it). */
export const acceptsGzip = (header: string | undefined): boolean =>
  (header ?? '').split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((param) => /^\s*q=([\d.]+)\s*$/.exec(param)?.[1]).find((value) => value !== undefined);
    return (coding === 'gzip' || coding === 'x-gzip' || coding === '*') && (q === undefined || Number(q) > 0);
  });

/** If-None-Match holds one of our tags (weak comparison, as RFC 9110 asks for GET), or `*`. */
const matches = (header: string | undefined, tags: string[]): boolean =>
  !!header && header.split(',').some((tag) => tag.trim() === '*' || tags.includes(tag.trim().replace(/^W\//, '')));

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (char) => HTML_ENTITIES[char]!);

const demoPage = (publicUrl: string, key: string | undefined): string => {
  const snippet = `<script src="${publicUrl}/widget.js" data-key="${key ?? 'pk_…'}" async></script>`;
  const body = key
    ? `<p>This page embeds the faqchat widget exactly as your website would, with this snippet:</p>
<pre><code>${escapeHtml(snippet)}</code></pre>
<p>Click the bubble in the corner and ask a question from your FAQ. If nothing appears, check that the key is active and that
this page's origin (${escapeHtml(new URL(publicUrl).origin)}) is in your configuration's <code>allowedOrigins</code> (or that the list is empty).</p>
${snippet.replace(key, escapeHtml(key))}`
    : `<p>Add your widget key to the address: <code>/demo?key=pk_…</code>.</p>
<p>To get a key: sign up (<code>POST /v1/auth/signup</code>), save your FAQ and colour (<code>PUT /v1/configuration</code>),
then create the key (<code>POST /v1/api-key</code>); its answer includes the snippet to paste into your site. See <a href="/docs">the API docs</a>.</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>faqchat widget demo</title>
<link rel="icon" href="data:,">
</head>
<body>
<h1>faqchat widget demo</h1>
${body}
</body>
</html>
`;
};

export const widgetAssetsRoutes: FastifyPluginAsyncZod<{ publicUrl: string }> = async (app, options) => {
  const { plain, gzipped } = readWidget();
  const hash = createHash('sha256').update(plain).digest('base64url').slice(0, 27);
  // Strong validators differ per content coding (RFC 9110 §8.8.3).
  const etags = { plain: `"${hash}"`, gzip: `"${hash}-gz"` };
  const serverOrigin = new URL(options.publicUrl).origin;

  app.get(
    '/widget.js',
    {
      schema: {
        tags: ['widget'],
        summary: 'The embeddable widget script',
        description: 'One minified script, precompressed with gzip. Cacheable for 5 minutes, revalidated with its ETag.',
        response: {
          200: z.custom<Buffer>((value) => Buffer.isBuffer(value)).describe('The script (application/javascript), gzip-encoded when accepted'),
          304: z.undefined().describe('Not modified: the cached copy is current'),
        },
      },
    },
    async (request, reply) => {
      const gzip = acceptsGzip(request.headers['accept-encoding']);
      reply.headers({
        'cache-control': CACHE_CONTROL,
        etag: gzip ? etags.gzip : etags.plain,
        vary: 'Accept-Encoding',
        // Any website may load the script, even one that sets Cross-Origin-Embedder-Policy.
        'cross-origin-resource-policy': 'cross-origin',
        'x-content-type-options': 'nosniff',
      });
      if (matches(request.headers['if-none-match'], [etags.plain, etags.gzip])) return reply.code(304).send(undefined);
      reply.type('application/javascript; charset=utf-8');
      if (gzip) reply.header('content-encoding', 'gzip');
      return reply.send(gzip ? gzipped : plain);
    },
  );

  app.get(
    '/demo',
    {
      schema: {
        tags: ['widget'],
        summary: 'A page that embeds the widget with the given key, as a site owner would',
        querystring: z.object({ key: z.string().regex(WIDGET_KEY_PATTERN, 'must look like pk_ followed by 10 to 64 letters, digits, _ or -').optional() }),
        response: { 200: z.string().describe('text/html'), 400: problemSchema },
      },
    },
    async (request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header(
          'content-security-policy',
          `default-src 'none'; script-src ${serverOrigin}; connect-src ${serverOrigin}; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
        )
        .header('referrer-policy', 'no-referrer')
        .send(demoPage(options.publicUrl, request.query.key)),
  );
};
