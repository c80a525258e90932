import { describe, expect, it } from 'vitest';
import { analyzerFor, ENGLISH_STOP_WORDS } from '../src/lexical/analyzer.js';
import { bm25Idf } from '../src/lexical/bm25.js';
import { LexicalIndex } from '../src/lexical/lexical-index.js';
import { Lexicon } from '../src/lexical/lexicon.js';
import { termVectorOf, tfIn } from '../src/lexical/term-vector.js';

/** BM25 written out naively over token lists (an independent implementation of the formula). */
function naiveBm25(docs: Map<string, string[]>, query: string[], k1 = 0.9, b = 0.4): Map<string, number> {
  const n = docs.size;
  const avgdl = [...docs.values()].reduce((a, d) => a + d.length, 0) / n;
  const out = new Map<string, number>();
  const qtf = new Map<string, number>();
  for (const t of query) qtf.set(t, (qtf.get(t) ?? 0) + 1);
  for (const [id, toks] of docs) {
    let s = 0;
    for (const [t, c] of qtf) {
      const tf = toks.filter((x) => x === t).length;
      if (tf === 0) continue;
      const df = [...docs.values()].filter((d) => d.includes(t)).length;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      s += (c * idf * tf) / (tf + k1 * (1 - b + (b * toks.length) / avgdl));
    }
    if (s > 0) out.set(id, s);
  }
  return out;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
}

const WORDS =
  'apple banana cherry river mountain ocean protein cell gene market stock bond court law judge star planet orbit'.split(
    ' ',
  );

function randomText(r: () => number): string {
  return Array.from({ length: 3 + Math.floor(r() * 20) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ');
}

describe('analyzers', () => {
  it('plain lower-cases, drops the possessive and splits on non-alphanumerics; english also stops and stems', () => {
    expect(analyzerFor('plain')("The cat's Running-shoes, 42x!")).toEqual(['the', 'cat', 'running', 'shoes', '42x']);
    expect(analyzerFor('english')("The cat's Running-shoes, 42x!")).toEqual(['cat', 'run', 'shoe', '42x']);
    expect(ENGLISH_STOP_WORDS.size).toBe(33);
  });
});

describe('term vectors and the lexicon', () => {
  it('gives ascending distinct term ids with counts and the token length', () => {
    const lex = new Lexicon();
    const v = termVectorOf(['b', 'a', 'b', 'c', 'b'], lex);
    expect([...v.terms]).toEqual([0, 1, 2]);
    expect([...v.tfs]).toEqual([3, 1, 1]);
    expect(v.length).toBe(5);
    expect(tfIn(v, lex.lookup('b')!)).toBe(3);
    expect(tfIn(v, 99)).toBe(0);
  });
  it('truncate() undoes the terms of a write that did not commit', () => {
    const lex = new Lexicon(['x', 'y']);
    termVectorOf(['y', 'z', 'w'], lex);
    expect(lex.since(2)).toEqual(['z', 'w']);
    lex.truncate(2);
    expect(lex.size).toBe(2);
    expect(lex.lookup('z')).toBeUndefined();
    expect(lex.idOf('w')).toBe(2);
  });
});

describe('LexicalIndex', () => {
  it('scores as the BM25 formula written out naively (qtf counted, Lucene idf, k1 0.9, b 0.4)', () => {
    const r = rng(3);
    const idx = new LexicalIndex({ analyzer: 'plain', uniqueQueryTerms: false });
    const docs = new Map<string, string[]>();
    for (let i = 0; i < 60; i++) {
      const text = randomText(r);
      docs.set(`d${i}`, analyzerFor('plain')(text));
      idx.setRow(i, `d${i}`, idx.termVector(text));
    }
    for (const q of ['apple river', 'gene gene cell', 'orbit star planet law', 'nothing here']) {
      const want = naiveBm25(docs, analyzerFor('plain')(q));
      const got = idx.score(q);
      expect(got.rows.length).toBe([...want.keys()].length);
      for (let i = 0; i < got.rows.length; i++)
        expect(got.scores[i]).toBeCloseTo(want.get(idx.idAt(got.rows[i])!)!, 10);
    }
    expect(bm25Idf(10, 10)).toBeCloseTo(Math.log(1 + 0.5 / 10.5), 12);
  });

  it('after random adds, replacements and deletes (with compactions) equals an index built from the final documents', () => {
    const r = rng(11);
    const live = new Map<number, { id: string; text: string }>();
    const inc = new LexicalIndex({ analyzer: 'english' });
    for (let step = 0; step < 9000; step++) {
      const row = Math.floor(r() * 3000);
      if (r() < 0.2) {
        inc.setRow(row, null);
        live.delete(row);
      } else {
        const doc = { id: `doc-${row}-${step}`, text: randomText(r) };
        inc.setRow(row, doc.id, inc.termVector(doc.text));
        live.set(row, doc);
      }
    }
    const fresh = new LexicalIndex({ analyzer: 'english' });
    fresh.load([...live].map(([row, d]) => ({ row, id: d.id, vector: fresh.termVector(d.text) })));
    expect(inc.documents).toBe(live.size);
    for (const q of ['apple', 'court law judge', 'protein protein cell gene', 'orbits of planets']) {
      const a = inc.search(q, 50);
      const b = fresh.search(q, 50);
      expect(a.map((h) => h.id)).toEqual(b.map((h) => h.id));
      a.forEach((h, i) => expect(h.score).toBeCloseTo(b[i].score, 9));
      expect(a.length).toBeGreaterThan(0);
    }
    inc.compact();
    expect(inc.search('court law judge', 50)).toEqual(
      fresh.search('court law judge', 50).map((h) => ({ ...h, score: expect.closeTo(h.score, 9) })),
    );
  });

  it('orders ties by id and keeps k', () => {
    const idx = new LexicalIndex({ analyzer: 'plain' });
    ['b', 'a', 'c'].forEach((id, i) => idx.setRow(i, id, idx.termVector('same words')));
    expect(idx.search('words', 2).map((h) => h.id)).toEqual(['a', 'b']);
    expect(idx.search('unknown', 2)).toEqual([]);
  });
});
