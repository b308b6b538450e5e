// SPDX-License-Identifier: Apache-2.0
/**
 * `threatflow config [--variables]`: validates the `EF_*` environment and prints the effective
 * configuration as JSON with secrets redacted (warnings on stderr), or, with `--variables`, the Markdown
 * reference of every variable. Invalid configuration exits 2, the code every sub-command uses for it.
 */
import type { Command } from 'commander';
import { ConfigError, loadConfig, redactedConfig, variablesMarkdown, type LoadedConfig } from '../config';

/** Exit code for an invalid configuration. */
export const EXIT_CONFIG = 2;

export interface Streams {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

const STDIO: Streams = { out: process.stdout, err: process.stderr };

/** Prints the problems of a `ConfigError`, one a line, after a summary line. */
export function printConfigError(e: ConfigError, err: NodeJS.WritableStream = process.stderr): void {
  const n = e.problems.length;
  err.write(`threatflow: invalid configuration (${n} problem${n === 1 ? '' : 's'}):\n`);
  for (const p of e.problems) err.write(`  ${p}\n`);
}

export function printWarnings(warnings: readonly string[], err: NodeJS.WritableStream = process.stderr): void {
  for (const w of warnings) err.write(`threatflow: warning: ${w}\n`);
}

/**
 * Loads the configuration for a sub-command; on a `ConfigError` prints it and exits 2 before anything
 * else happens. Warnings are printed to stderr.
 */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env, err: NodeJS.WritableStream = process.stderr): LoadedConfig {
  try {
    const loaded = loadConfig(env);
    printWarnings(loaded.warnings, err);
    return loaded;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    printConfigError(e, err);
    process.exit(EXIT_CONFIG);
  }
}

/** The `config` command itself; returns the exit code. */
export function configCommand(opts: { variables?: boolean }, env: NodeJS.ProcessEnv, io: Streams = STDIO): number {
  if (opts.variables) {
    io.out.write(variablesMarkdown());
    return 0;
  }
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    printConfigError(e, io.err);
    return EXIT_CONFIG;
  }
  printWarnings(loaded.warnings, io.err);
  io.out.write(`${JSON.stringify(redactedConfig(loaded.config), null, 2)}\n`);
  return 0;
}

export function register(program: Command): void {
  program
    .command('config')
    .description('validate the EF_* environment and print the effective configuration, secrets redacted')
    .option('--variables', 'print a Markdown table of every EF_* variable instead')
    .action((opts: { variables?: boolean }) => {
      process.exitCode = configCommand(opts, process.env);
    });
}
