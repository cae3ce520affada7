// Builds widget/src/index.ts into one minified IIFE (widget/dist/widget.js) and its gzip twin.
import { mkdirSync, writeFileSync } from 'node:fs';
import { gzipSync, constants } from 'node:zlib';
import { build } from 'esbuild';

const outdir = new URL('./dist/', import.meta.url);
mkdirSync(outdir, { recursive: true });
const result = await build({
  entryPoints: [new URL('./src/index.ts', import.meta.url).pathname],
  bundle: true,
  format: 'iife',
  minify: true,
  target: ['es2020'],
  legalComments: 'none',
  write: false,
});
const code = result.outputFiles[0].contents;
writeFileSync(new URL('widget.js', outdir), code);
writeFileSync(new URL('widget.js.gz', outdir), gzipSync(code, { level: constants.Z_BEST_COMPRESSION }));
