// @ts-check
/*
 * esbuild plugins for the Lambda bundles, loaded by serverless-esbuild (`custom.esbuild.plugins` in
 * serverless.yml, which calls the exported function with the Serverless instance) and by the cold-start benchmark
 * (without one). CommonJS because serverless-esbuild `require`s this file.
 */
'use strict';

const fs = require('node:fs/promises');
const path = require('node:path');

/**
 * Source maps for our code only. A full map of the bundle is two thirds SDK mappings, which more than doubles the
 * zip and the work Node does with `--enable-source-maps` at cold start. Each dependency file is given an input
 * source map with a single mapping to its own first line, so a stack frame inside the AWS SDK or Powertools still
 * names the package file it is in, while frames in src/ keep their exact TypeScript line and column.
 * @type {import('esbuild').Plugin}
 */
const dependencyFramesByFileOnly = {
  name: 'dependency-frames-by-file-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/].*\.[cm]?js$/ }, async (args) => {
      const map = { version: 3, sources: [path.basename(args.path)], names: [], mappings: 'AAAA' };
      const inline = Buffer.from(JSON.stringify(map)).toString('base64');
      // esbuild honours the last sourceMappingURL comment, so one the package ships itself is overridden.
      return { contents: `${await fs.readFile(args.path, 'utf8')}\n//# sourceMappingURL=data:application/json;base64,${inline}\n`, loader: 'js' };
    });
  },
};

/**
 * Code splitting for bundles built side by side. With `splitting: true` esbuild writes each `import()`ed module
 * (classify's on-demand start loads `@aws-sdk/client-sfn` so) to a chunk loaded on first use, not at cold start.
 * serverless-esbuild 1.57.2 builds every function into one folder and zips every file in it but the other
 * handlers into each function, so each zip would carry every function's chunks (about 800 KB each). Each bundle's
 * chunks go to a folder named after its handler file (`chunks-classify/`), which is then moved under
 * serverless-esbuild's per-function folder (`__only_<function>/`, the one it uses for a function's own
 * `package.patterns`), whose files only that function's zip holds, at the path the bundle imports them from.
 * @param {{ service: { functions?: Record<string, { handler?: string } | null> } } | undefined} serverless
 * @returns {import('esbuild').Plugin}
 */
function chunksPerFunction(serverless) {
  return {
    name: 'chunks-per-function',
    setup(build) {
      const options = build.initialOptions;
      const entries = Array.isArray(options.entryPoints) ? options.entryPoints : [];
      const entry = entries.length === 1 && typeof entries[0] === 'string' ? entries[0] : undefined;
      if (!options.splitting || !entry || !options.outdir) return;
      const handlerFile = entry.slice(0, entry.length - path.extname(entry).length);
      const chunkDir = `chunks-${path.basename(handlerFile)}`;
      options.chunkNames = `${chunkDir}/[name]-[hash]`;
      if (!serverless) return;
      const outdir = options.outdir;
      // serverless-esbuild's outdir is <build folder>/<the handler's folder>.
      const buildDir = path.resolve(outdir, path.relative(path.dirname(handlerFile), '.'));
      const functions = Object.entries(serverless.service.functions ?? {})
        .filter(([, fn]) => typeof fn?.handler === 'string' && fn.handler.slice(0, fn.handler.lastIndexOf('.')) === handlerFile)
        .map(([alias]) => alias);
      build.onEnd(async (result) => {
        const chunks = path.join(outdir, chunkDir);
        if (result.errors.length > 0 || !(await fs.stat(chunks).catch(() => undefined))) return;
        if (functions.length === 0) {
          return { errors: [{ text: `${entry}: no function in serverless.yml has this handler, so its chunks have no zip to go to` }] };
        }
        for (const alias of functions) {
          const target = path.join(buildDir, `__only_${alias}`, path.relative(buildDir, chunks));
          await fs.rm(target, { recursive: true, force: true });
          await fs.mkdir(path.dirname(target), { recursive: true });
          await fs.cp(chunks, target, { recursive: true });
        }
        await fs.rm(chunks, { recursive: true, force: true });
        return undefined;
      });
    },
  };
}

/** @param {Parameters<typeof chunksPerFunction>[0]} [serverless] @returns {import('esbuild').Plugin[]} */
module.exports = (serverless) => [dependencyFramesByFileOnly, chunksPerFunction(serverless)];
