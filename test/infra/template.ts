import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { inject } from 'vitest';

/*
 * Reads what test/global-setup.ts packaged once per run with osls exactly as CI does (`--stage ci --region
 * eu-west-1`, no AWS credentials): the CloudFormation template it would deploy and the function zips.
 */

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const STAGE = 'ci';
export const REGION = 'eu-west-1';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: JsonObject;
  readonly DependsOn?: string | string[];
  readonly Condition?: string;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Conditions?: Record<string, Json>;
  readonly Outputs: Record<string, { readonly Value: Json; readonly Description?: string }>;
}

export interface PackagedService {
  /** The directory given to `osls package --package`. */
  readonly dir: string;
  readonly template: CfnTemplate;
}

/** The template and artifacts of the run's one offline packaging (see test/global-setup.ts). */
export function packagedService(): PackagedService {
  const dir = inject('packageDir');
  const template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as CfnTemplate;
  return { dir, template };
}

/* ------------------------------------------------------------------ JSON helpers */

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asArray(value: Json | undefined): Json[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The object at `path` below `value`; throws with the path when something on the way is missing. */
export function objectAt(value: Json | undefined, ...path: string[]): JsonObject {
  let node = value;
  for (const [index, key] of path.entries()) {
    if (!isObject(node)) throw new Error(`no object at ${path.slice(0, index).join('.') || '<root>'}`);
    node = node[key];
  }
  if (!isObject(node)) throw new Error(`no object at ${path.join('.')}`);
  return node;
}

/**
 * Renders a CloudFormation value as one string so assertions can compare ARNs however they were written:
 * `Ref: X` → `${X}`, `Fn::GetAtt: [X, Arn]` → `${X.Arn}`, `Fn::Sub` → its template, `Fn::Join` → the joined parts.
 */
export function render(value: Json | undefined): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isObject(value)) {
    const ref = value.Ref;
    if (typeof ref === 'string') return `\${${ref}}`;
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `\${${getAtt.map(render).join('.')}}`;
    if (typeof getAtt === 'string') return `\${${getAtt}}`;
    const sub = value['Fn::Sub'];
    if (typeof sub === 'string') return sub;
    const join = value['Fn::Join'];
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
      return join[1].map(render).join(join[0]);
    }
  }
  return JSON.stringify(value);
}

export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

export function resource(template: CfnTemplate, logicalId: string, type: string): CfnResource & { Properties: JsonObject } {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`no resource ${logicalId}`);
  if (found.Type !== type) throw new Error(`${logicalId} is a ${found.Type}, not a ${type}`);
  return { ...found, Properties: found.Properties ?? {} };
}

/** The logical id an output points at with `Ref` or `Fn::GetAtt`. */
export function outputTarget(template: CfnTemplate, output: string): string {
  const value = template.Outputs[output]?.Value;
  if (!isObject(value)) throw new Error(`output ${output} does not reference a resource`);
  const ref = value.Ref;
  if (typeof ref === 'string') return ref;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  throw new Error(`output ${output} does not reference a resource`);
}

/* ------------------------------------------------------------------ policies */

export interface FoundStatement {
  /** Logical id of the resource the policy document belongs to. */
  readonly owner: string;
  readonly ownerType: string;
  /** Where in the resource's properties the document sits, e.g. `Policies.0.PolicyDocument`. */
  readonly path: string;
  readonly statement: JsonObject;
}

/**
 * Every statement of every policy document in the template, found structurally (any object with a
 * `Statement` list) so policy kinds added later (queue, topic, event bus, state machine role) are walked too.
 */
export function allPolicyStatements(template: CfnTemplate): FoundStatement[] {
  const found: FoundStatement[] = [];
  const visit = (owner: string, ownerType: string, node: Json, path: string[]): void => {
    if (Array.isArray(node)) {
      node.forEach((item, index) => {
        visit(owner, ownerType, item, [...path, String(index)]);
      });
      return;
    }
    if (!isObject(node)) return;
    const statements = node.Statement;
    if (statements !== undefined && ('Version' in node || Array.isArray(statements))) {
      for (const statement of asArray(statements)) {
        if (isObject(statement)) found.push({ owner, ownerType, path: path.join('.'), statement });
      }
      return;
    }
    for (const [key, child] of Object.entries(node)) visit(owner, ownerType, child, [...path, key]);
  };
  for (const [logicalId, { Type, Properties }] of Object.entries(template.Resources)) {
    if (Properties) visit(logicalId, Type, Properties, []);
  }
  return found;
}

/** Every string inside an Action or NotAction value (plain, list, or wrapped in an intrinsic such as Fn::If). */
export function actionStrings(value: Json | undefined): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(actionStrings);
  if (isObject(value)) return Object.values(value).flatMap(actionStrings);
  return [];
}

/* ------------------------------------------------------------------ zip */

export interface ZipEntry {
  readonly name: string;
  readonly size: number;
  readonly read: () => Buffer;
}

/** Lists a zip archive from its central directory (stored and deflated entries; no zip64, which 4 GB needs). */
export function readZip(path: string): ZipEntry[] {
  if (!existsSync(path)) throw new Error(`no archive at ${path}`);
  const zip = readFileSync(path);
  let end = -1;
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at -= 1) {
    if (zip.readUInt32LE(at) === 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end < 0) throw new Error(`${path} is not a zip archive`);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let index = 0; index < count; index += 1) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${path}: bad central directory entry ${index}`);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeader = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const read = (): Buffer => {
      const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
      const data = zip.subarray(dataStart, dataStart + compressedSize);
      if (method === 0) return Buffer.from(data);
      if (method === 8) return inflateRawSync(data);
      throw new Error(`${name}: unsupported compression method ${method}`);
    };
    entries.push({ name, size, read });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
