import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

/*
 * The page is plain TypeScript and CSS in ./page, bundled by esbuild in memory when the server starts (about
 * 50 ms): nothing is fetched from elsewhere at run time and there is no build output to go stale.
 */

export interface PageAssets {
  readonly html: Buffer;
  readonly script: Buffer;
  readonly style: Buffer;
}

const PAGE_DIR = join(import.meta.dirname, 'page');

export async function buildPageAssets(): Promise<PageAssets> {
  const result = await build({
    entryPoints: [join(PAGE_DIR, 'main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2022',
    platform: 'browser',
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const script = result.outputFiles[0];
  if (!script) throw new Error('esbuild produced no page script');
  const [html, style] = await Promise.all([readFile(join(PAGE_DIR, 'index.html')), readFile(join(PAGE_DIR, 'style.css'))]);
  return { html, script: Buffer.from(script.contents), style };
}
