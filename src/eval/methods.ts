/** The evaluation's rows (methods): names, expansion and validation. */
import { RouterRetrieverError } from '../boundary/errors.js';

/** 'router': the abstaining router (src/router/abstain.ts), the SDK's default routing. */
export const ROUTER_METHODS = ['dataset-router', 'router-mean', 'router-max', 'router'] as const;
export const ORACLE_METHODS = ['dataset-oracle', 'instance-oracle'] as const;
/** BM25 fused with the base ranking, or with the routed expert's (the SDK's default search); see ./hybrid-rows.ts. */
export const HYBRID_METHODS = ['hybrid-base', 'hybrid-router'] as const;
export type RouterMethod = (typeof ROUTER_METHODS)[number];

const isRouter = (m: string): m is RouterMethod => (ROUTER_METHODS as readonly string[]).includes(m);
export const isOracle = (m: string) => (ORACLE_METHODS as readonly string[]).includes(m);
export const isHybrid = (m: string) => (HYBRID_METHODS as readonly string[]).includes(m);

function bad(msg: string): never {
  throw new RouterRetrieverError('INVALID_INPUT', msg);
}

/**
 * The rows to compute, expanded ("experts" -> every expert:<name>) and validated.
 * `requested` null = every row that applies (bm25; base with a model; experts, routers
 * and oracles with experts).
 */
export function resolveMethodList(
  requested: readonly string[] | null,
  experts: readonly string[],
  hasModel: boolean,
): string[] {
  const expertRows = experts.map((e) => `expert:${e}`);
  if (requested === null) {
    return [
      'bm25',
      ...(hasModel ? ['base', 'hybrid-base'] : []),
      ...(hasModel && experts.length > 0 ? [...expertRows, ...ROUTER_METHODS, 'hybrid-router', ...ORACLE_METHODS] : []),
    ];
  }
  const out: string[] = [];
  for (const m of requested) {
    if (m === 'experts') out.push(...expertRows);
    else if (m.startsWith('expert:')) {
      if (!expertRows.includes(m))
        bad(`method ${m}: no expert named "${m.slice(7)}" (give --expert ${m.slice(7)}=<dir>)`);
      out.push(m);
    } else if (m === 'bm25' || m === 'base' || isRouter(m) || isOracle(m) || isHybrid(m)) out.push(m);
    else
      bad(
        `unknown method "${m}" (bm25, base, expert:<name>, experts, ${[...ROUTER_METHODS, ...HYBRID_METHODS, ...ORACLE_METHODS].join(', ')})`,
      );
  }
  const dense = out.filter((m) => m !== 'bm25');
  if (dense.length > 0 && !hasModel) bad(`methods ${dense.join(', ')} need --model`);
  if (out.some((m) => isRouter(m) || isOracle(m) || m === 'hybrid-router') && experts.length === 0)
    bad('routers and oracles need at least one expert');
  return [...new Set(out)];
}
