import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { RESULTS_INDEXES } from '../../../src/lib/tables/results.js';

/*
 * One module owns each table: src/lib/tables/ holds every key, index name, Query and conditional write of the
 * results and registry tables. This scans src/ (code, not comments) so that stays true.
 */

const SRC = join(import.meta.dirname, '../../../src');
const OWNER = 'lib/tables/';
/** Outside the table modules but DynamoDB all the same, each for a reason of its own. */
const EXCEPTIONS: Readonly<Record<string, string>> = {
  'local/tables.ts': 'creates the tables from the template, indexes and all',
  'local/events/result-pipes.ts': "the local stand-in for DynamoDB Streams reads back the item a write produced, on any table",
};
/** Value imports every module may make: the clients themselves, built where the dependencies are composed. */
const CLIENTS = new Set(['DynamoDBClient', 'DynamoDBDocumentClient']);
const DYNAMODB_PACKAGES = new Set(['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb']);
/** Request fields that only a Query, a Scan or a conditional write has. */
const REQUEST_FIELDS = new Set(['IndexName', 'KeyConditionExpression', 'UpdateExpression', 'ConditionExpression', 'FilterExpression', 'ExclusiveStartKey']);
const INDEX_NAMES = new Set(Object.keys(RESULTS_INDEXES));
/** Registry ids: `version#<name>` and `lock#…` are built by the registry module only. */
const REGISTRY_ID = /^(version|lock)#/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** What in one file reaches a table directly: a DynamoDB command imported, a request field, an index name or registry id written out. */
export function tableAccessIn(text: string): string[] {
  const found: string[] = [];
  const source = ts.createSourceFile('file.ts', text, ts.ScriptTarget.Latest, true);
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    if (!DYNAMODB_PACKAGES.has(statement.moduleSpecifier.text)) continue;
    const clause = statement.importClause;
    if (!clause || clause.phaseModifier === ts.SyntaxKind.TypeKeyword) continue;
    const bindings = clause.namedBindings;
    if (clause.name || !bindings || !ts.isNamedImports(bindings)) {
      found.push(`imports ${statement.moduleSpecifier.text} whole`);
      continue;
    }
    for (const element of bindings.elements) {
      if (!element.isTypeOnly && !CLIENTS.has((element.propertyName ?? element.name).text)) found.push(`imports ${(element.propertyName ?? element.name).text}`);
    }
  }
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && REQUEST_FIELDS.has(node.text)) found.push(`writes ${node.text}`);
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node)) {
      if (INDEX_NAMES.has(node.text)) found.push(`names the index ${node.text}`);
      if (REGISTRY_ID.test(node.text)) found.push(`builds the registry id ${node.text}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('table ownership', () => {
  it('finds what it looks for, and not in comments', () => {
    expect(tableAccessIn("import { QueryCommand } from '@aws-sdk/lib-dynamodb';\nconst q = { IndexName: 'byStatus' };")).toEqual(['imports QueryCommand', 'writes IndexName', 'names the index byStatus']);
    expect(tableAccessIn("import * as dynamo from '@aws-sdk/client-dynamodb';")).toEqual(['imports @aws-sdk/client-dynamodb whole']);
    expect(tableAccessIn('const id = `version#${name}`; const lock = "lock#training";')).toEqual(['builds the registry id version#', 'builds the registry id lock#training']);
    expect(tableAccessIn("import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';\nimport type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';\n// the byStatus index, IndexName: 'byStatus'\n/* version#<name> */")).toEqual([]);
  });

  it('no module outside src/lib/tables queries, writes or names the tables itself', () => {
    const offenders = sourceFiles(SRC)
      .map((path) => relative(SRC, path).split('\\').join('/'))
      .filter((path) => !path.startsWith(OWNER) && EXCEPTIONS[path] === undefined)
      .flatMap((path) => tableAccessIn(readFileSync(join(SRC, path), 'utf8')).map((what) => `${path} ${what}`));
    expect(offenders).toEqual([]);
  });

  it('every exception still exists and still needs to be one', () => {
    for (const path of Object.keys(EXCEPTIONS)) expect(tableAccessIn(readFileSync(join(SRC, path), 'utf8')), path).not.toEqual([]);
  });
});
