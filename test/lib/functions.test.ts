import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { FUNCTION_BUILDERS } from '../../src/lib/functions/index.js';
import { readTemplate, resourcesOfType } from '../../src/local/template.js';

/* One way to build each function: the registry the local stack and the tests use, and the deployed handler files. */

const ROOT = resolve(import.meta.dirname, '../..');

describe('function builders', () => {
  it('cover exactly the handlers of the packaged template', async () => {
    const template = await readTemplate(join(inject('packageDir'), 'cloudformation-template-update-stack.json'));
    const handlers = resourcesOfType(template, 'AWS::Lambda::Function').map(([, resource]) => resource.Properties?.Handler);
    expect(handlers.sort()).toEqual(Object.keys(FUNCTION_BUILDERS).sort());
  });

  it.each(Object.entries(FUNCTION_BUILDERS))('%s: the deployed file builds its entry with the same builder', async (handler, build) => {
    const source = await readFile(join(ROOT, `${handler.slice(0, handler.lastIndexOf('.'))}.ts`), 'utf8');
    expect(source).toContain(`const entry = ${build.name}(deployedRuntime(), process.env);`);
    expect(source).toContain('export const handler = async');
  });
});
