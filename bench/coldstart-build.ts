/*
 * The cold-start bench's build side: esbuild with the options serverless-esbuild used, zip sizes as Info-ZIP makes
 * them, package weights from the metafile, and copies of the project packaged with one serverless.yml change.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type { BuildOptions, Metafile, Plugin } from 'esbuild';
import { packageTemplate } from '../src/local/template.js';
import { PROJECT_DIR } from './common.js';

export const run = promisify(execFile);

export interface BundleSizes {
  readonly mjsBytes: number;
  readonly mapBytes: number;
  readonly zipBytes: number;
  readonly zipWithoutMapBytes: number;
}


export interface PackageWeight {
  readonly package: string;
  readonly bytes: number;
}


/** The esbuild options serverless-esbuild derives from serverless.yml's custom.esbuild (read from the packaged state). */
export async function esbuildOptionsOf(packageDir: string): Promise<BuildOptions> {
  const state = JSON.parse(await readFile(join(packageDir, 'serverless-state.json'), 'utf8')) as { service: { custom: { esbuild: Record<string, unknown> } } };
  const extension = typeof state.service.custom.esbuild.outputFileExtension === 'string' ? state.service.custom.esbuild.outputFileExtension : '.js';
  // Plugin-only keys; the rest is passed to esbuild as it is.
  const pluginOnly = new Set(['outputFileExtension', 'exclude', 'packager', 'packagerOptions', 'installExtraArgs', 'watch', 'concurrency', 'zipConcurrency', 'nativeZip', 'keepOutputDirectory', 'disableIncremental', 'outputWorkFolder', 'outputBuildFolder', 'skipBuild', 'skipRebuild', 'skipBuildExcludeFns', 'stripEntryResolveExtensions', 'config', 'plugins', 'excludeFiles', 'packagePath', 'node', 'disposeContext', 'nodeExternals']);
  const custom = Object.fromEntries(Object.entries(state.service.custom.esbuild).filter(([key]) => !pluginOnly.has(key)));
  // `plugins` names a file serverless-esbuild `require`s from the service directory; load the same file.
  const pluginsFile = state.service.custom.esbuild.plugins;
  // It exports a function of the Serverless instance; without one it leaves chunks where esbuild writes them.
  const exported = typeof pluginsFile === 'string' ? (createRequire(import.meta.url)(join(PROJECT_DIR, pluginsFile)) as Plugin[] | ((serverless?: unknown) => Plugin[])) : [];
  const plugins = typeof exported === 'function' ? exported() : exported;
  return { ...(custom as BuildOptions), plugins, outExtension: { '.js': extension } };
}

export async function fileSize(file: string): Promise<number> {
  return (await stat(file)).size;
}

/** Zips the bundle (and its map when asked) with Info-ZIP's default deflate, the same level archiver uses. */
export async function zipSize(dir: string, files: readonly string[], out: string): Promise<number> {
  await rm(out, { force: true });
  await run('zip', ['-q', '-X', out, ...files], { cwd: dir });
  return fileSize(out);
}

function packageOf(path: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  return match?.[1] ?? (path.startsWith('src/') ? 'src (pneumo)' : path.includes('<') ? '(esbuild runtime)' : path);
}

/** The outputs Node loads when it imports the entry: the entry file and the chunks it imports statically, not `import()`ed ones. */
export function coldPathOutputs(metafile: Metafile): string[] {
  // Chunks esbuild splits off behind import() are entry points too: the bundle's own is the one nothing imports.
  const imported = new Set(Object.values(metafile.outputs).flatMap((output) => output.imports.map((i) => i.path)));
  const entry = Object.entries(metafile.outputs).find(([file, output]) => output.entryPoint !== undefined && !imported.has(file))?.[0];
  const loaded = new Set<string>();
  const visit = (file: string): void => {
    if (loaded.has(file) || !metafile.outputs[file]) return;
    loaded.add(file);
    for (const imported of metafile.outputs[file].imports) if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
  };
  if (entry) visit(entry);
  return [...loaded];
}

/** Bytes per package in what the entry's import loads (code split off behind `import()` is not parsed at cold start). */
export function weights(metafile: Metafile): PackageWeight[] {
  const byPackage = new Map<string, number>();
  for (const output of coldPathOutputs(metafile).map((file) => metafile.outputs[file]).filter((o) => o !== undefined)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      byPackage.set(packageOf(path), (byPackage.get(packageOf(path)) ?? 0) + bytesInOutput);
    }
  }
  return [...byPackage.entries()].map(([name, bytes]) => ({ package: name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

export const POWERTOOLS_STUB = `
export const MetricUnit = new Proxy({}, { get: (_, name) => String(name) });
export const MetricUnits = MetricUnit;
const line = (level, message, fields) => console.log(JSON.stringify({ level, message, ...fields, timestamp: new Date().toISOString() }));
export class Logger {
  addContext() {}
  debug() {}
  info(message, fields) { line('INFO', message, fields); }
  warn(message, fields) { line('WARN', message, fields); }
  error(message, fields) { line('ERROR', message, fields); }
}
export class Metrics {
  constructor() { this.stored = []; }
  singleMetric() { return new Metrics(); }
  addDimension() {}
  addMetric(name, unit, value) { this.stored.push({ name, unit, value }); }
  captureColdStartMetric() {}
  publishStoredMetrics() { if (this.stored.length) console.log(JSON.stringify({ _aws: { Timestamp: Date.now() }, metrics: this.stored })); this.stored = []; }
}
`;

export function aliasPlugin(pattern: RegExp, file: string): Plugin {
  return {
    name: 'bench-alias',
    setup(b) {
      b.onResolve({ filter: pattern }, () => ({ path: file }));
    },
  };
}

export interface Built {
  readonly file: string;
  readonly sizes: BundleSizes;
  readonly metafile: Metafile;
}

export async function buildBundle(options: BuildOptions, entry: string, outDir: string, extra: BuildOptions = {}): Promise<Built> {
  await mkdir(outDir, { recursive: true });
  const result = await build({ ...options, ...extra, entryPoints: [entry], outdir: outDir, metafile: true, write: true, logLevel: 'silent', absWorkingDir: PROJECT_DIR });
  const mjs = (await readdir(outDir)).find((f) => f.endsWith('.mjs'));
  if (!mjs) throw new Error(`esbuild wrote no .mjs for ${entry}`);
  const map = `${mjs}.map`;
  const hasMap = (await readdir(outDir)).includes(map);
  // The zip holds the chunks too (`splitting`), each with its map.
  const files = (await readdir(outDir, { recursive: true })).map(String).filter((f) => f.endsWith('.mjs') || f.endsWith('.map'));
  const zipBytes = await zipSize(outDir, files, join(outDir, '..', `${basename(outDir)}.zip`));
  const zipWithoutMapBytes = await zipSize(outDir, files.filter((f) => f.endsWith('.mjs')), join(outDir, '..', `${basename(outDir)}-nomap.zip`));
  return {
    file: join(outDir, mjs),
    metafile: result.metafile,
    sizes: { mjsBytes: await fileSize(join(outDir, mjs)), mapBytes: hasMap ? await fileSize(join(outDir, map)) : 0, zipBytes, zipWithoutMapBytes },
  };
}

export interface PackagedVariant {
  readonly change: string;
  readonly classifyZipBytes: number;
  readonly classifyZipEntries: readonly string[];
}

/**
 * Packages a copy of the project (serverless.yml, resources/, sources, state machines; node_modules linked) with one
 * edit to serverless.yml, so an option's effect on the real artifact is measured without touching the working tree.
 */
export async function packageVariant(work: string, name: string, change: string, edit: (yml: string) => string): Promise<PackagedVariant> {
  const copy = join(work, `project-${name}`);
  await mkdir(copy, { recursive: true });
  for (const entry of ['package.json', 'tsconfig.json', 'src', 'statemachines', 'resources']) await cp(join(PROJECT_DIR, entry), join(copy, entry), { recursive: true });
  await symlink(join(PROJECT_DIR, 'node_modules'), join(copy, 'node_modules'));
  const yml = await readFile(join(PROJECT_DIR, 'serverless.yml'), 'utf8');
  const edited = edit(yml);
  if (edited === yml) throw new Error(`variant ${name}: the edit did not apply to serverless.yml`);
  await writeFile(join(copy, 'serverless.yml'), edited);
  const outDir = join(work, `package-${name}`);
  await packageTemplate({ projectDir: copy, stage: 'ci', region: 'eu-west-1', outDir });
  const { stdout } = await run('unzip', ['-Z1', join(outDir, 'classify.zip')]);
  return { change, classifyZipBytes: await fileSize(join(outDir, 'classify.zip')), classifyZipEntries: stdout.split('\n').filter(Boolean) };
}

