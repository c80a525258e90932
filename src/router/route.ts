import { RouterRetrieverError } from '../boundary/errors.js';
import { nameRecord } from '../records.js';
import { checkVector, dot64, type PilotLibrary } from '../vectors.js';

export type { PilotLibrary };

export type RouteMode = 'mean' | 'max';

export interface RouteResult {
  /** The selected expert. */
  expert: string;
  /** Per expert: mean (or max) dot product of the query with its pilots. Experts without pilots are absent. */
  scores: Record<string, number>;
}

function route(query: Float32Array, pilots: PilotLibrary, mode: RouteMode): RouteResult {
  checkVector(query, undefined, 'The query embedding');
  const scores = nameRecord<number>();
  let best: string | undefined;
  let bestScore = -Infinity;
  for (const [expert, list] of pilots) {
    if (list.length === 0) continue;
    let agg = mode === 'max' ? -Infinity : 0;
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      if (p.length !== query.length) {
        throw new RouterRetrieverError(
          'INVALID_INPUT',
          `Pilot embedding ${i} of expert "${expert}" has ${p.length} dimensions but the query has ${query.length}.`,
          { expert, got: p.length, expected: query.length },
        );
      }
      const s = dot64(query, p);
      if (mode === 'max') agg = Math.max(s, agg);
      else agg += s;
    }
    if (mode === 'mean') agg /= list.length;
    scores[expert] = agg;
    // Strictly greater: on a tie the expert that comes first in insertion order wins.
    if (best === undefined || agg > bestScore) {
      best = expert;
      bestScore = agg;
    }
  }
  if (best === undefined) {
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      'The pilot library has no pilot embeddings: add an expert or build the library first.',
    );
  }
  return { expert: best, scores };
}

/**
 * The paper's router: for each expert, the AVERAGE dot product of the query with
 * that expert's pilot embeddings; the best average wins. Ties go to the expert
 * that comes first in the Map's insertion order. Experts with no pilots are skipped.
 */
export function routeMean(query: Float32Array, pilots: PilotLibrary): RouteResult {
  return route(query, pilots, 'mean');
}

/**
 * The authors' code: the expert owning the single most similar pilot embedding
 * (max dot product). Ties go to the first expert in insertion order.
 */
export function routeMax(query: Float32Array, pilots: PilotLibrary): RouteResult {
  return route(query, pilots, 'max');
}

export function routeQuery(query: Float32Array, pilots: PilotLibrary, mode: RouteMode = 'mean'): RouteResult {
  return route(query, pilots, mode);
}
