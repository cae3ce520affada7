import { readFileSync } from 'node:fs';
import { constants, gzipSync } from 'node:zlib';
import t from 'tap';

/** PRODUCT.md: the whole widget is at most 6 KB gzipped. */
const BUDGET_BYTES = 6 * 1024;

t.test('the built widget fits its gzip budget', async (t) => {
  const script = readFileSync(new URL('../widget/dist/widget.js', import.meta.url));
  const gzipped = gzipSync(script, { level: constants.Z_BEST_COMPRESSION }).length;
  t.comment(`widget.js: ${script.length} bytes, ${gzipped} bytes gzip -9 (budget ${BUDGET_BYTES})`);
  t.ok(gzipped <= BUDGET_BYTES, `${gzipped} bytes gzipped must be ≤ ${BUDGET_BYTES}`);
});

t.test('the built widget is one self-contained script without dynamic code', async (t) => {
  const script = readFileSync(new URL('../widget/dist/widget.js', import.meta.url), 'utf8');
  t.notMatch(script, /\beval\(|new Function|innerHTML|outerHTML|insertAdjacentHTML|document\.write|\.style\.|setAttribute\("style"/);
  t.notMatch(script, /\bimport\(|\brequire\(/, 'no runtime dependencies');
});
