/**
 * Records keyed by names users give (experts, document ids): null-prototype objects, so that a
 * name such as `__proto__` or `constructor` is a key like any other. On a `{}` an expert named
 * `__proto__` was routed to but missing from route().scores and from the exported pilot library.
 */
export function nameRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
