#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader, so the installed command and `npm run pneumo` execute the same
// sources the tests check, with no build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
