#!/usr/bin/env node
/**
 * The `crossmodal` command line: one file per command under ./commands, parsed by commander.
 * Results go to stdout (a table, or JSON with --json); progress and errors go to stderr.
 */
import { Command, CommanderError } from 'commander';
import { registerClassify } from './commands/classify';
import { registerDemo } from './commands/demo';
import { registerEmbed } from './commands/embed';
import { registerEval } from './commands/eval';
import { registerExport } from './commands/export';
import { registerIndex } from './commands/index-files';
import { registerInfo } from './commands/info';
import { registerPull } from './commands/pull';
import { registerScore } from './commands/score';
import { registerSearch } from './commands/search';
import { EXIT, formatError } from './output';

export function buildProgram(): Command {
  const program = new Command('crossmodal')
    .description(
      'Image-text matching and cross-modal retrieval: embed, score, classify, index and search images by text.',
    )
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Exit codes: 0 success, 1 the work failed, 2 wrong command line, 3 finished but some inputs were skipped.
Errors print one line: crossmodal: CODE: message — hint.`,
    );
  program.exitOverride();
  // commander's own messages ("error: unknown option ...") in the same one-line form as ours.
  program.configureOutput({ outputError: (text, write) => write(`crossmodal: ${text.replace(/^error: /, '')}`) });
  for (const register of [
    registerDemo,
    registerIndex,
    registerSearch,
    registerClassify,
    registerScore,
    registerEmbed,
    registerEval,
    registerExport,
    registerInfo,
    registerPull,
  ]) {
    register(program);
  }
  return program;
}

/** Runs the command line and returns the exit code (never calls process.exit). */
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed its own message (or the help); map its exits onto ours.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { line, exitCode } = formatError(error);
    process.stderr.write(`${line}\n`);
    return exitCode;
  }
}

if (require.main === module) {
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
