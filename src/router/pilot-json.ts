import { RouterRetrieverError } from '../boundary/errors.js';
import { nameRecord } from '../records.js';
import type { PilotLibrary } from '../vectors.js';

/**
 * The authors' JSON shape: `{ "expert name": [[f0, f1, ...], ...], ... }`.
 * Numbers are written as the exact float32 values (JSON round trip is lossless).
 */
export function exportPilotLibrary(pilots: PilotLibrary): string {
  const obj = nameRecord<number[][]>();
  for (const [expert, list] of pilots) obj[expert] = list.map((v) => Array.from(v));
  return JSON.stringify(obj);
}

/**
 * Parses and validates the authors' JSON shape (a string or an already parsed
 * object). Every pilot must be a non-empty array of finite numbers, all of the
 * same dimension (`options.dim` if given). An expert may have an empty list.
 * Key order gives the expert order (ties in routing). Throws INVALID_INPUT.
 */
export function parsePilotLibrary(input: string | unknown, options: { dim?: number } = {}): PilotLibrary {
  const obj = pilotLibraryValue(input);
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      'The pilot library must be a JSON object { "expert": [[numbers]] }.',
    );
  }
  let dim = options.dim;
  const out: PilotLibrary = new Map();
  for (const [expert, list] of Object.entries(obj as Record<string, unknown>)) {
    if (expert === '') throw new RouterRetrieverError('INVALID_INPUT', 'An expert name in the pilot library is empty.');
    if (!Array.isArray(list)) {
      throw new RouterRetrieverError(
        'INVALID_INPUT',
        `Pilots of expert "${expert}" must be an array of arrays of numbers.`,
        { expert },
      );
    }
    const vecs: Float32Array[] = [];
    list.forEach((row: unknown, i) => {
      if (!Array.isArray(row) || row.length === 0) {
        throw new RouterRetrieverError(
          'INVALID_INPUT',
          `Pilot ${i} of expert "${expert}" must be a non-empty array of numbers.`,
          { expert, index: i },
        );
      }
      if (dim === undefined) dim = row.length;
      if (row.length !== dim) {
        throw new RouterRetrieverError(
          'INVALID_INPUT',
          `Pilot ${i} of expert "${expert}" has ${row.length} dimensions, expected ${dim}.`,
          { expert, index: i, got: row.length, expected: dim },
        );
      }
      const v = new Float32Array(dim);
      for (let j = 0; j < dim; j++) {
        const x = row[j] as unknown;
        if (typeof x !== 'number' || !Number.isFinite(x) || !Number.isFinite(Math.fround(x))) {
          throw new RouterRetrieverError(
            'INVALID_INPUT',
            `Pilot ${i} of expert "${expert}" has a non-finite or non-numeric value at ${j}.`,
            {
              expert,
              index: i,
            },
          );
        }
        v[j] = x;
      }
      vecs.push(v);
    });
    out.set(expert, vecs);
  }
  return out;
}

/** A pilot library given as JSON text or as a parsed value: the parsed value (INVALID_INPUT when not JSON). */
export function pilotLibraryValue(input: string | unknown): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input);
  } catch (e) {
    throw new RouterRetrieverError('INVALID_INPUT', `The pilot library is not valid JSON: ${(e as Error).message}`);
  }
}
