import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as z from 'zod/mini';
import { isPlainObject, parseWith } from '../lib/schema.js';

/** What the local stack reads of a resource; the rest (Condition, DependsOn, …) passes through. */
const CfnResourceSchema = z.readonly(
  z.looseObject(
    {
      Type: z.string({ error: 'has no Type' }),
      Properties: z.optional(z.record(z.string(), z.unknown(), { error: 'has Properties that are not an object' })),
    },
    { error: 'is not an object' },
  ),
);

const CfnTemplateSchema = z.readonly(
  z.looseObject({
    Resources: z.readonly(z.record(z.string(), CfnResourceSchema, { error: 'no Resources' })),
    Outputs: z.optional(z.readonly(z.record(z.string(), z.readonly(z.looseObject({ Value: z.unknown() }, { error: 'is not an object' })), { error: 'no Outputs object' }))),
  }, { error: 'no Resources' }),
);

export type CfnResource = z.output<typeof CfnResourceSchema>;
export type CfnTemplate = z.output<typeof CfnTemplateSchema>;

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

const run = promisify(execFile);

export interface PackageOptions {
  /** Folder holding serverless.yml. */
  readonly projectDir: string;
  readonly stage: string;
  readonly region: string;
  /** Where to write the package; a fresh temporary folder when absent. */
  readonly outDir?: string;
  /** Stage parameters passed as `--param name=value`. */
  readonly params?: Readonly<Record<string, string>>;
}

/** The environment without AWS credentials or profiles: packaging must never need them. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  return { ...env, AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_CONFIG_FILE: '/dev/null' };
}

/**
 * Packages the stack offline exactly as a deployment would and returns its CloudFormation template, so the
 * local stack builds its tables, notifications and function settings from the deployed definitions.
 * serverless-esbuild works in `<project>/.esbuild`, so two packagings of one project must not run at once.
 */
export async function packageTemplate(options: PackageOptions): Promise<{ template: CfnTemplate; outDir: string }> {
  const outDir = options.outDir ?? (await mkdtemp(join(tmpdir(), 'pneumo-package-')));
  const bin = join(options.projectDir, 'node_modules', '.bin', 'osls');
  try {
    const params = Object.entries(options.params ?? {}).map(([name, value]) => `--param=${name}=${value}`);
    await run(bin, ['package', '--stage', options.stage, '--region', options.region, '--package', outDir, ...params], {
      cwd: options.projectDir,
      env: offlineEnv(),
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (cause) {
    const stderr = (cause as { stderr?: string }).stderr ?? '';
    throw new TemplateError(`osls package failed: ${stderr.trim().split('\n').slice(-5).join(' | ')}`, { cause });
  }
  return { template: await readTemplate(join(outDir, 'cloudformation-template-update-stack.json')), outDir };
}

export async function readTemplate(file: string): Promise<CfnTemplate> {
  const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
  return parseWith(CfnTemplateSchema, parsed, (message, path) => {
    const [section, id] = path;
    if (id === undefined) return new TemplateError(`${file} has ${message}`);
    return new TemplateError(`${file}: ${section === 'Outputs' ? 'output' : 'resource'} ${String(id)} ${message}`);
  });
}

export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/**
 * Resolves the intrinsic functions the local stack meets in resource properties (Ref, Fn::GetAtt, Fn::Sub,
 * Fn::Join) against local names; anything it cannot resolve is an error that names it.
 */
export function resolveIntrinsics(value: unknown, names: Readonly<Record<string, string>>): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, names));
  if (!isPlainObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const [fn] = keys;
    const arg = value[fn ?? ''];
    if (fn === 'Ref') return lookup(String(arg), names);
    if (fn === 'Fn::GetAtt') {
      const [id, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
      return lookup(`${id ?? ''}.${attribute ?? ''}`, names);
    }
    if (fn === 'Fn::Sub' && typeof arg === 'string') {
      return arg.replace(/\$\{([^}]+)\}/g, (_, name: string) => lookup(name, names));
    }
    if (fn === 'Fn::Join' && Array.isArray(arg)) {
      const [separator, parts] = arg as [string, unknown[]];
      return parts.map((part) => String(resolveIntrinsics(part, names))).join(separator);
    }
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveIntrinsics(item, names)]));
}

function lookup(name: string, names: Readonly<Record<string, string>>): string {
  const value = names[name];
  if (value === undefined) throw new TemplateError(`the local stack cannot resolve "${name}" from the template`);
  return value;
}
