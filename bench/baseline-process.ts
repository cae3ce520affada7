/**
 * The two baselines, in their own process like faqchat: a bare Fastify hello-world, and a
 * bare relay that forwards the same upstream stream with the same client faqchat uses (the
 * official openai SDK, streaming) and does no other work: no key lookup, no database.
 *   GET  /hello                       → {"hello":"world"}
 *   POST /relay (Accept: text/event-stream) → delta events then done, like /v1/widget/chat
 *   POST /relay (JSON)                → {answer}
 */
import Fastify from 'fastify';
import OpenAI from 'openai';

const baseURL = process.env.OPENAI_BASE_URL!;
const app = Fastify({ logger: false });
// One client per call, as faqchat does (the key is per owner).
const client = () => new OpenAI({ apiKey: 'sk-bench', baseURL, maxRetries: 0, timeout: 30_000 });

app.get('/hello', async () => ({ hello: 'world' }));

app.post('/relay', async (request, reply) => {
  const { message } = request.body as { message: string };
  const stream = await client().chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: message }],
    stream: true,
    stream_options: { include_usage: true },
  });
  if (!(request.headers.accept ?? '').includes('text/event-stream')) {
    let answer = '';
    for await (const chunk of stream) answer += chunk.choices[0]?.delta?.content ?? '';
    return { answer };
  }
  reply.hijack();
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  reply.raw.write(`event: conversation\ndata: {}\n\n`);
  for await (const chunk of stream) {
    const text = chunk.choices[0]?.delta?.content;
    if (text) reply.raw.write(`event: delta\ndata: ${JSON.stringify({ text })}\n\n`);
  }
  reply.raw.end(`event: done\ndata: {}\n\n`);
  return reply;
});

await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
const address = app.server.address() as { port: number };
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${address.port}` })}\n`);
const stop = async () => {
  await app.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
