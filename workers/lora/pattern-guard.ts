/**
 * A guard for the regular expressions an adapter's config carries (`target_modules` as a string,
 * `rank_pattern` / `alpha_pattern` keys). JavaScript's engine backtracks: `((\w|\.)+)+Z` took
 * 207 ms on a 24-character module name and 8x more every 2 characters, so `addExpert` never
 * returned on real 36-character names. PEFT's own patterns are a name, an alternation of names or
 * one `.*`; the guard lets those through and refuses, before any match runs, what can blow up:
 * - a quantified group that holds a quantifier (star height 2: exponential),
 * - more than MAX_UNBOUNDED unbounded quantifiers (`*`, `+`, `{n,}`): each multiplies the work
 *   by the name's length (3 on a 120-character name: under 2e6 steps),
 * - backreferences and lookbehind (no bound), and patterns over MAX_PATTERN characters.
 */
export const MAX_PATTERN = 256;
export const MAX_UNBOUNDED = 3;

/** Why the pattern is refused, or null when it is safe to run. */
export function patternProblem(pattern: string): string | null {
  if (pattern.length > MAX_PATTERN) return `it is ${pattern.length} characters long (at most ${MAX_PATTERN})`;
  // Per open group: whether it holds a quantifier so far.
  const groups: boolean[] = [];
  let unbounded = 0;
  let lastGroupHadQuantifier = false;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const n = pattern[i + 1];
      if (n !== undefined && /[1-9k]/.test(n)) return 'it uses a backreference';
      i++;
      lastGroupHadQuantifier = false;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      lastGroupHadQuantifier = false;
      continue;
    }
    if (c === '(') {
      if (pattern.startsWith('(?<=', i) || pattern.startsWith('(?<!', i)) return 'it uses a lookbehind';
      groups.push(false);
      lastGroupHadQuantifier = false;
      continue;
    }
    if (c === ')') {
      lastGroupHadQuantifier = groups.pop() ?? false;
      if (lastGroupHadQuantifier && groups.length > 0) groups[groups.length - 1] = true;
      continue;
    }
    const isUnbounded = c === '*' || c === '+' || (c === '{' && /^\{\d+,\}/.test(pattern.slice(i)));
    const isQuantifier = isUnbounded || c === '?' || (c === '{' && /^\{\d+(,\d+)?\}/.test(pattern.slice(i)));
    if (isQuantifier && !(c === '?' && (pattern[i - 1] === '(' || /[*+?}]/.test(pattern[i - 1] ?? '')))) {
      if (lastGroupHadQuantifier && isUnbounded) return 'a repeated group holds a repetition (nested quantifiers)';
      if (isUnbounded && ++unbounded > MAX_UNBOUNDED)
        return `it has more than ${MAX_UNBOUNDED} unbounded repetitions (*, +, {n,})`;
      if (groups.length > 0) groups[groups.length - 1] = true;
    }
    lastGroupHadQuantifier = false;
  }
  return null;
}
