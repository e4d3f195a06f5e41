import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { EXIT, OperationFailedError } from '../errors.js';
import type { ExitCode } from '../errors.js';
import type { Io } from '../io.js';
import { DEFAULT_LOCAL_DIR, PROJECT_DIR, readLocalStack } from '../target.js';

export interface LocalUpOptions {
  readonly once: boolean;
  readonly retrain: boolean;
  readonly verbose: boolean;
  readonly dataDir?: string | undefined;
  /** Passed on as given (e.g. --s3-port 0): the local stack's own options. */
  readonly extra: readonly string[];
  /** The entry to run; tests substitute a small script. */
  readonly entry?: string | undefined;
}

/** The command `npm start` runs, with these options: node, tsx's CLI, src/local/main.ts, arguments. */
export function localUpCommand(options: LocalUpOptions): { readonly command: string; readonly args: string[] } {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const args = [tsx, options.entry ?? join(PROJECT_DIR, 'src/local/main.ts')];
  if (options.once) args.push('--once');
  if (options.retrain) args.push('--retrain');
  if (options.verbose) args.push('--verbose');
  if (options.dataDir !== undefined) args.push('--data-dir', resolve(options.dataDir));
  args.push(...options.extra);
  return { command: process.execPath, args };
}

/**
 * `pneumo local up`: runs the local stack in the foreground, in this terminal, as `npm start` does. Ctrl-C reaches
 * the stack directly (same process group), which then stops cleanly; this process waits and returns its code.
 */
export async function localUp(io: Io, options: LocalUpOptions): Promise<ExitCode> {
  const dataDir = resolve(options.dataDir ?? DEFAULT_LOCAL_DIR);
  const running = readLocalStack(dataDir);
  if ('file' in running) {
    throw new OperationFailedError(`a local stack already runs on ${dataDir} (pid ${running.file.pid}); its commands work now, or stop it with Ctrl-C in its terminal`);
  }
  const { command, args } = localUpCommand(options);
  io.err(`starting the local stack: ${args.slice(1).map((arg) => (arg.startsWith(PROJECT_DIR) ? arg.slice(PROJECT_DIR.length + 1) : arg)).join(' ')}`);
  const child = spawn(command, args, { cwd: PROJECT_DIR, stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals): void => {
    // SIGINT from a terminal already reached the child; SIGTERM (e.g. from a process manager) may not have.
    if (signal === 'SIGTERM') child.kill('SIGTERM');
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    const code = await new Promise<number>((done, fail) => {
      child.once('error', fail);
      child.once('exit', (exitCode, signal) => {
        done(exitCode ?? (signal ? 1 : 0));
      });
    });
    return code === 0 ? EXIT.ok : EXIT.failed;
  } finally {
    process.removeListener('SIGINT', forward);
    process.removeListener('SIGTERM', forward);
  }
}
