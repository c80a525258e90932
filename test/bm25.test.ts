import { describe, expect, it } from 'vitest';
import { porterStem } from '../src/lexical/porter.js';
import { BM25_PROFILES, Bm25Index, analyze } from '../src/eval/bm25.js';
import { selectTopK } from '../src/eval/top-k.js';
import { analyzerFor } from '../src/lexical/analyzer.js';
import { isRouterRetrieverError } from '../src/boundary/errors.js';

describe('Porter stemmer (examples from Porter 1980)', () => {
  const cases: [string, string][] = [
    ['caresses', 'caress'],
    ['ponies', 'poni'],
    ['ties', 'ti'],
    ['caress', 'caress'],
    ['cats', 'cat'],
    ['feed', 'feed'],
    ['agreed', 'agre'],
    ['plastered', 'plaster'],
    ['bled', 'bled'],
    ['motoring', 'motor'],
    ['sing', 'sing'],
    ['conflated', 'conflat'],
    ['troubled', 'troubl'],
    ['sized', 'size'],
    ['hopping', 'hop'],
    ['tanned', 'tan'],
    ['falling', 'fall'],
    ['hissing', 'hiss'],
    ['fizzed', 'fizz'],
    ['failing', 'fail'],
    ['filing', 'file'],
    ['happy', 'happi'],
    ['sky', 'sky'],
    ['relational', 'relat'],
    ['conditional', 'condit'],
    ['rational', 'ration'],
    ['valenci', 'valenc'],
    ['digitizer', 'digit'],
    ['conformabli', 'conform'],
    ['radicalli', 'radic'],
    ['differentli', 'differ'],
    ['vileli', 'vile'],
    ['analogousli', 'analog'],
    ['vietnamization', 'vietnam'],
    ['predication', 'predic'],
    ['operator', 'oper'],
    ['feudalism', 'feudal'],
    ['decisiveness', 'decis'],
    ['hopefulness', 'hope'],
    ['callousness', 'callous'],
    ['formaliti', 'formal'],
    ['sensitiviti', 'sensit'],
    ['sensibiliti', 'sensibl'],
    ['triplicate', 'triplic'],
    ['formative', 'form'],
    ['formalize', 'formal'],
    ['electriciti', 'electr'],
    ['electrical', 'electr'],
    ['hopeful', 'hope'],
    ['goodness', 'good'],
    ['revival', 'reviv'],
    ['allowance', 'allow'],
    ['inference', 'infer'],
    ['airliner', 'airlin'],
    ['gyroscopic', 'gyroscop'],
    ['adjustable', 'adjust'],
    ['defensible', 'defens'],
    ['irritant', 'irrit'],
    ['replacement', 'replac'],
    ['adjustment', 'adjust'],
    ['dependent', 'depend'],
    ['adoption', 'adopt'],
    ['homologou', 'homolog'],
    ['communism', 'commun'],
    ['activate', 'activ'],
    ['angulariti', 'angular'],
    ['homologous', 'homolog'],
    ['effective', 'effect'],
    ['bowdlerize', 'bowdler'],
    ['probate', 'probat'],
    ['rate', 'rate'],
    ['cease', 'ceas'],
    ['controll', 'control'],
    ['roll', 'roll'],
    ['generalizations', 'gener'],
    ['oscillators', 'oscil'],
    ['is', 'is'],
    ['a', 'a'],
    ['archaeology', 'archaeolog'],
  ];
  it.each(cases)('%s -> %s', (w, s) => expect(porterStem(w)).toBe(s));
});

describe('analyzer', () => {
  it('lower-cases, drops possessives and Lucene English stopwords, splits on non-alphanumerics, stems', () => {
    expect(analyze("The patient's Running-shoes are NOT in 3.5 cases")).toEqual([
      'patient',
      'run',
      'shoe',
      '3',
      '5',
      'case',
    ]);
    expect(analyze('café naïve')).toEqual(['café', 'naïv']);
  });
  it('plain analyzer keeps stopwords and surface forms', () => {
    expect(analyzerFor('plain')('The cats')).toEqual(['the', 'cats']);
  });
});

describe('BM25', () => {
  const docs = [
    { id: 'd1', title: 'Cats', text: 'cats purr and cats sleep' },
    { id: 'd2', title: '', text: 'dogs bark loudly at night' },
    { id: 'd3', title: 'Pets', text: 'a cat and a dog living together in a small house with a garden' },
  ];
  const idx = Bm25Index.build(docs);

  it('matches the formula by hand (k1 0.9, b 0.4, Lucene idf)', () => {
    // analyzed lengths: d1 [cat, cat, purr, cat, sleep] = 5, d2 [dog, bark, loudli, night] = 4, d3 [pet, cat, dog, live, togeth, small, hous, garden] = 8
    const avgdl = (5 + 4 + 8) / 3;
    const idf = Math.log(1 + (3 - 2 + 0.5) / (2 + 0.5)); // "cat": df 2
    const s = (tf: number, dl: number) => (idf * tf) / (tf + 0.9 * (1 - 0.4 + (0.4 * dl) / avgdl));
    const r = idx.search('cat', 10);
    expect(r.ids).toEqual(['d1', 'd3']);
    expect(r.scores[0]).toBeCloseTo(s(3, 5), 12);
    expect(r.scores[1]).toBeCloseTo(s(1, 8), 12);
  });

  it('counts repeated query terms (anserini) or not (plain)', () => {
    const once = idx.search('dog', 10).scores[0];
    expect(idx.search('dog dog', 10).scores[0]).toBeCloseTo(2 * once, 10);
    const plain = Bm25Index.build(docs, BM25_PROFILES.plain);
    expect(plain.search('dogs dogs', 10).scores[0]).toBeCloseTo(plain.search('dogs', 10).scores[0], 12);
  });

  it('breaks ties by document id descending and returns only matching docs', () => {
    const t = Bm25Index.build([
      { id: 'a', text: 'x y' },
      { id: 'c', text: 'x y' },
      { id: 'b', text: 'x y' },
      { id: 'z', text: 'q' },
    ]);
    expect(t.search('x', 10).ids).toEqual(['c', 'b', 'a']);
    expect(t.search('x', 2).ids).toEqual(['c', 'b']);
    expect(t.search('nothing here', 10).ids).toEqual([]);
  });

  it('rejects duplicate ids', () => {
    try {
      Bm25Index.build([
        { id: 'a', text: 'x' },
        { id: 'a', text: 'y' },
      ]);
      expect.unreachable();
    } catch (e) {
      expect(isRouterRetrieverError(e, 'INVALID_INPUT')).toBe(true);
    }
  });

  it('selectTopK equals a full sort', () => {
    const xs = Array.from({ length: 500 }, (_, i) => (i * 7919) % 503);
    const cmp = (a: number, b: number) => b - a;
    expect(selectTopK(xs, 17, cmp)).toEqual([...xs].sort(cmp).slice(0, 17));
  });
});
