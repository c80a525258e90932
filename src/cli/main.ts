/**
 * The package's command line (bin `router-retriever`, bin/router-retriever.js). One command so
 * far: `index`. Failures print the RouterRetrieverError's message (the file, the line and what
 * to fix for bad input) and exit with status 1; usage errors exit with status 2.
 */
import { isRouterRetrieverError } from '../boundary/errors.js';
import { INDEX_USAGE, runIndex } from './index-command.js';

const USAGE = `usage: ${INDEX_USAGE}`;

export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || rest.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd !== 'index') {
    process.stderr.write(`router-retriever: unknown command "${cmd}"\n\n${USAGE}\n`);
    return 2;
  }
  try {
    await runIndex(rest, { err: process.stderr });
    return 0;
  } catch (e) {
    if (isRouterRetrieverError(e)) {
      process.stderr.write(
        `router-retriever index: ${e.message}${e.code === 'INVALID_INPUT' ? '' : ` (${e.code})`}\nNothing was written.\n`,
      );
      return e.code === 'INVALID_INPUT' && !('file' in e.details) ? 2 : 1;
    }
    throw e;
  }
}

// Run directly with tsx (src/cli/main.ts); bin/router-retriever.js calls main() itself.
if (process.argv[1] && /[\\/]cli[\\/]main\.ts$/.test(process.argv[1]))
  void main(process.argv.slice(2)).then((code) => process.exit(code));
