#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
/**
 * The `threatflow` command (DESIGN.md §9). Each sub-command lives in its own file and registers itself
 * with `register(program)`; this file only wires them, makes `run` the default, and turns an error thrown
 * by a command into one line on stderr and exit code 1 (an invalid configuration exits 2, see config.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config';
import { EXIT_CONFIG, printConfigError, register as registerConfig } from './config';

type Register = (program: Command) => void;

/**
 * The sub-commands besides `config`, in help order. Each file is required only here, inside a guard: a
 * command whose module fails to load (a missing optional dependency, a broken build) is listed and fails
 * with the load error when invoked, but cannot stop `threatflow config` from validating the environment.
 * It also keeps `config` from loading the collector's whole dependency tree.
 */
const SUBCOMMANDS: ReadonlyArray<[name: string, load: () => Register]> = [
  ['run', () => (require('./run') as typeof import('./run')).register],
  ['decode', () => (require('./decode') as typeof import('./decode')).register],
  ['replay', () => (require('./replay') as typeof import('./replay')).register],
  ['threatdb', () => (require('./threatdb') as typeof import('./threatdb')).register],
  ['riskiq-sink', () => (require('./riskiq-sink') as typeof import('./riskiq-sink')).register],
  ['setup', () => (require('./setup') as typeof import('./setup')).register],
];

/** The command that runs when none is named. */
const DEFAULT_COMMAND = 'run';

function version(): string {
  try {
    // dist/cli/main.js and src/cli/main.ts both sit two levels below collector/package.json.
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('threatflow')
    .description('flow collector (NetFlow v5/v9, IPFIX, sFlow v5) with RiskIQ threat enrichment for the Elastic Stack')
    .version(version())
    .showHelpAfterError()
    .exitOverride();
  for (const [name, load] of SUBCOMMANDS) {
    let register: Register;
    try {
      register = load();
    } catch (e) {
      const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
      program
        .command(name)
        .description(`(unavailable: ${reason})`)
        .allowUnknownOption()
        .allowExcessArguments()
        .action(() => {
          throw new Error(`the ${name} command failed to load: ${reason}`);
        });
      continue;
    }
    register(program);
  }
  registerConfig(program);
  return program;
}

/**
 * Inserts the default command when the arguments name none: `threatflow` and `threatflow --opt` mean
 * `threatflow run [--opt]`. Commander's own `isDefault` is an option of `.command()`, which the
 * sub-command files call themselves; this keeps them unaware of which one is the default.
 */
export function withDefaultCommand(program: Command, args: readonly string[]): string[] {
  const first = args[0];
  const names = new Set(program.commands.flatMap((c) => [c.name(), ...c.aliases()]));
  const rootOnly = new Set(['-h', '--help', '-V', '--version', 'help']);
  if (first === undefined || (!names.has(first) && !rootOnly.has(first) && first.startsWith('-'))) {
    return [DEFAULT_COMMAND, ...args];
  }
  return [...args];
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(withDefaultCommand(program, argv.slice(2)), { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode; // Commander has printed the message or the help.
    if (e instanceof ConfigError) {
      printConfigError(e);
      return EXIT_CONFIG;
    }
    process.stderr.write(`threatflow: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  // `threatflow decode ... | head`: the reader leaving early is how a pipeline ends, not an error; stop
  // quietly instead of dying on an unhandled EPIPE.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`threatflow: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
