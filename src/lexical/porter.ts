/**
 * The Porter stemmer, written from M. F. Porter, "An algorithm for suffix
 * stripping", Program 14(3), 1980, pp. 130-137.
 *
 * Terms of the paper: a consonant is a letter other than a, e, i, o, u, and other
 * than y preceded by a consonant; m is the measure of a word written
 * [C](VC)^m[V]; *v* = the stem contains a vowel; *d = the stem ends in a double
 * consonant; *o = the stem ends consonant-vowel-consonant where the last
 * consonant is not w, x or y. In each step the LONGEST matching suffix is
 * selected; if its condition fails, no shorter suffix of that step is tried.
 *
 * Like Porter's own published reference implementation (and hence Lucene's
 * PorterStemFilter used by Anserini) it departs from the paper in two step-2
 * rules - (m>0) BLI -> BLE replaces ABLI -> ABLE, and (m>0) LOGI -> LOG is added -
 * and leaves words of one or two letters alone. Input is expected lower-case.
 */

function isConsonant(w: string, i: number): boolean {
  switch (w.charCodeAt(i)) {
    case 97: // a
    case 101: // e
    case 105: // i
    case 111: // o
    case 117: // u
      return false;
    case 121: // y
      return i === 0 ? true : !isConsonant(w, i - 1);
    default:
      return true;
  }
}

/** m of the first `len` letters of w. */
function measure(w: string, len: number): number {
  let i = 0;
  while (i < len && isConsonant(w, i)) i++; // optional leading [C]
  let m = 0;
  while (i < len) {
    while (i < len && !isConsonant(w, i)) i++; // V
    if (i >= len) break;
    while (i < len && isConsonant(w, i)) i++; // C
    m++;
  }
  return m;
}

function hasVowel(w: string, len: number): boolean {
  for (let i = 0; i < len; i++) if (!isConsonant(w, i)) return true;
  return false;
}

/** *d for the first len letters. */
function endsDoubleConsonant(w: string, len: number): boolean {
  return len >= 2 && w[len - 1] === w[len - 2] && isConsonant(w, len - 1);
}

/** *o for the first len letters. */
function endsCvc(w: string, len: number): boolean {
  if (len < 3) return false;
  if (!isConsonant(w, len - 1) || isConsonant(w, len - 2) || !isConsonant(w, len - 3)) return false;
  const c = w[len - 1];
  return c !== 'w' && c !== 'x' && c !== 'y';
}

type Rule = readonly [suffix: string, replacement: string];

/** Longest suffix of `rules` that w ends with (rules are listed in any order). */
function longestMatch(w: string, rules: readonly Rule[]): Rule | undefined {
  let best: Rule | undefined;
  for (const r of rules) if (w.endsWith(r[0]) && (!best || r[0].length > best[0].length)) best = r;
  return best;
}

const STEP2: readonly Rule[] = [
  ['ational', 'ate'],
  ['tional', 'tion'],
  ['enci', 'ence'],
  ['anci', 'ance'],
  ['izer', 'ize'],
  ['bli', 'ble'],
  ['alli', 'al'],
  ['entli', 'ent'],
  ['eli', 'e'],
  ['ousli', 'ous'],
  ['ization', 'ize'],
  ['ation', 'ate'],
  ['ator', 'ate'],
  ['alism', 'al'],
  ['iveness', 'ive'],
  ['fulness', 'ful'],
  ['ousness', 'ous'],
  ['aliti', 'al'],
  ['iviti', 'ive'],
  ['biliti', 'ble'],
  ['logi', 'log'],
];

const STEP3: readonly Rule[] = [
  ['icate', 'ic'],
  ['ative', ''],
  ['alize', 'al'],
  ['iciti', 'ic'],
  ['ical', 'ic'],
  ['ful', ''],
  ['ness', ''],
];

const STEP4: readonly Rule[] = [
  'al',
  'ance',
  'ence',
  'er',
  'ic',
  'able',
  'ible',
  'ant',
  'ement',
  'ment',
  'ent',
  'ion',
  'ou',
  'ism',
  'ate',
  'iti',
  'ous',
  'ive',
  'ize',
].map((s) => [s, ''] as const);

/** Replace the matched suffix when measure(stem) > minM. */
function applyMeasureRule(w: string, rules: readonly Rule[], minM: number): string {
  const r = longestMatch(w, rules);
  if (!r) return w;
  const stemLen = w.length - r[0].length;
  if (measure(w, stemLen) <= minM) return w;
  if (r[0] === 'ion') {
    // (m>1 and (*S or *T)) ION ->
    const c = w[stemLen - 1];
    if (c !== 's' && c !== 't') return w;
  }
  return w.slice(0, stemLen) + r[1];
}

function step1a(w: string): string {
  if (w.endsWith('sses')) return w.slice(0, -2);
  if (w.endsWith('ies')) return w.slice(0, -2);
  if (w.endsWith('ss')) return w;
  if (w.endsWith('s')) return w.slice(0, -1);
  return w;
}

function step1b(w: string): string {
  if (w.endsWith('eed')) {
    return measure(w, w.length - 3) > 0 ? w.slice(0, -1) : w;
  }
  let stem: string;
  if (w.endsWith('ed') && hasVowel(w, w.length - 2)) stem = w.slice(0, -2);
  else if (w.endsWith('ing') && hasVowel(w, w.length - 3)) stem = w.slice(0, -3);
  else return w;
  if (stem.endsWith('at') || stem.endsWith('bl') || stem.endsWith('iz')) return `${stem}e`;
  const n = stem.length;
  if (endsDoubleConsonant(stem, n)) {
    const c = stem[n - 1];
    return c === 'l' || c === 's' || c === 'z' ? stem : stem.slice(0, -1);
  }
  if (measure(stem, n) === 1 && endsCvc(stem, n)) return `${stem}e`;
  return stem;
}

function step1c(w: string): string {
  return w.endsWith('y') && hasVowel(w, w.length - 1) ? `${w.slice(0, -1)}i` : w;
}

function step5(w: string): string {
  let n = w.length;
  if (w.endsWith('e')) {
    const m = measure(w, n - 1);
    if (m > 1 || (m === 1 && !endsCvc(w, n - 1))) w = w.slice(0, -1);
  }
  n = w.length;
  if (w.endsWith('ll') && measure(w, n) > 1) w = w.slice(0, -1);
  return w;
}

/** Porter stem of a lower-case word. */
export function porterStem(word: string): string {
  if (word.length <= 2) return word;
  let w = step1a(word);
  w = step1b(w);
  w = step1c(w);
  w = applyMeasureRule(w, STEP2, 0);
  w = applyMeasureRule(w, STEP3, 0);
  w = applyMeasureRule(w, STEP4, 1);
  return step5(w);
}
