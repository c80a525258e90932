/**
 * Command-line arguments for the package's CLI (src/cli/) and the repo's tools and benches:
 * node:util parseArgs (strict), with its errors turned into RouterRetrieverError INVALID_INPUT messages that name the flag and the fix,
 * and small typed readers for the values.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { RouterRetrieverError } from '../boundary/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export function badArg(message: string): never {
  throw new RouterRetrieverError('INVALID_INPUT', message);
}

/** parseArgs in strict mode; `usage` names where the options are documented. */
export function parseCli<O extends Options>(
  argv: readonly string[],
  options: O,
  usage: string,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals });
  } catch (e) {
    const err = e as { code?: string; message: string };
    const flag = /'(-{1,2}[\w-]+)/.exec(err.message)?.[1] ?? '';
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') badArg(`unknown option "${flag}" (see ${usage})`);
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') badArg(`${flag} needs a value (see ${usage})`);
    if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') badArg(`${err.message} (see ${usage})`);
    throw e;
  }
}

/** A positive integer flag value, or `fallback` when the flag was not given. */
export function positiveInt(flag: string, value: string | undefined, fallback: number): number;
export function positiveInt(flag: string, value: string | undefined, fallback: null): number | null;
export function positiveInt(flag: string, value: string | undefined, fallback: number | null): number | null {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) <= 0) badArg(`${flag} needs a positive integer, got "${value}"`);
  return Number(value);
}

/** One of `choices`, or `fallback` when the flag was not given. */
export function oneOf<C extends string>(
  flag: string,
  value: string | undefined,
  choices: readonly C[],
  fallback: C,
): C {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    const names = choices.length > 1 ? `${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}` : choices.join('');
    badArg(`${flag} takes ${names}, got "${value}"`);
  }
  return value as C;
}

/** A comma-separated list. */
export function listOf(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
