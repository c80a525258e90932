/**
 * A checked filter (src/filter/check.ts, the SDK's one filter validation) as a SQL condition
 * over the `metadata` jsonb column, with every field name and value a bind parameter: the SQL
 * text holds only placeholders ($n) and fixed operators, never a caller's string.
 *
 * Same meaning as the SDK's in-memory mask (src/filter/mask.ts): a field matches only when the
 * document holds a string, number or boolean there; `values` (eq, in) compare as JSON values,
 * bounds compare numbers only; and/or nest.
 */
import type { FieldTest, FilterNode } from '../src/filter/check.js';

export interface SqlCondition {
  sql: string;
  params: unknown[];
}

const BOUNDS = [
  ['gt', '>'],
  ['gte', '>='],
  ['lt', '<'],
  ['lte', '<='],
] as const;

class Builder {
  constructor(readonly params: unknown[]) {}

  /** The placeholder of a new parameter. */
  bind(v: unknown): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }

  field(t: FieldTest): string {
    const f = this.bind(t.field);
    const value = `(metadata -> ${f}::text)`;
    const parts = [`jsonb_typeof${value} IN ('string', 'number', 'boolean')`];
    // A JSON array of the allowed values; containment of [value] is JSON equality with one of them.
    if (t.values) parts.push(`${this.bind(JSON.stringify(t.values))}::jsonb @> jsonb_build_array${value}`);
    const ranged = BOUNDS.filter(([b]) => t[b] !== undefined);
    if (ranged.length) {
      // CASE keeps the cast away from non-numbers whatever order the planner evaluates in.
      const num = `(CASE WHEN jsonb_typeof${value} = 'number' THEN (metadata ->> ${f}::text)::float8 END)`;
      for (const [b, op] of ranged) parts.push(`${num} ${op} ${this.bind(t[b])}::float8`);
    }
    return `(${parts.join(' AND ')})`;
  }

  node(n: FilterNode): string {
    if (n.op === 'field') return this.field(n);
    if (n.of.length === 0) return n.op === 'and' ? 'TRUE' : 'FALSE';
    return `(${n.of.map((c) => this.node(c)).join(n.op === 'and' ? ' AND ' : ' OR ')})`;
  }
}

/**
 * The WHERE condition of `filter`; its placeholders continue after `params` (which it extends),
 * so a statement's own parameters can come first.
 */
export function filterToSql(filter: FilterNode | undefined, params: unknown[]): string {
  if (!filter) return 'TRUE';
  return new Builder(params).node(filter);
}
