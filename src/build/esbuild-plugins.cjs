// @ts-check
/*
 * esbuild plugins for the Lambda bundles, loaded by serverless-esbuild (`custom.esbuild.plugins` in
 * serverless.yml) and by the cold-start benchmark. CommonJS because serverless-esbuild `require`s this file.
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

module.exports = [dependencyFramesByFileOnly];
