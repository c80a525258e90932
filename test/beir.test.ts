import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { docText, parseCorpusJsonl, parseQrelsTsv, parseQueriesJsonl, qrelsWithQueries } from '../src/eval/beir.js';
import { hashHalf, resolveSplit, sha1, splitQrels } from '../src/eval/splits.js';
import { isRouterRetrieverError } from '../src/boundary/errors.js';
import { loadBeirDir } from '../tools/eval/beir-node.js';

function errorOf(f: () => unknown) {
  try {
    f();
  } catch (e) {
    if (isRouterRetrieverError(e)) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('BEIR parsing', () => {
  it('parses corpus.jsonl (missing title -> "", numeric ids as text, CRLF, blank lines, maxDocs)', () => {
    const text =
      '{"_id": "d1", "title": "T", "text": "x"}\r\n\n{"_id": 7, "text": "y"}\n{"_id": "d3", "title": null, "text": "z"}\n';
    expect(parseCorpusJsonl(text)).toEqual([
      { id: 'd1', title: 'T', text: 'x' },
      { id: '7', title: '', text: 'y' },
      { id: 'd3', title: '', text: 'z' },
    ]);
    expect(parseCorpusJsonl(text, 'c', { maxDocs: 2 }).map((d) => d.id)).toEqual(['d1', '7']);
    expect(docText({ id: 'a', title: 'T', text: 'x' })).toBe('T x');
    expect(docText({ id: 'a', title: '', text: 'x' })).toBe('x');
  });

  it('names file and line on errors', () => {
    let e = errorOf(() => parseCorpusJsonl('{"_id":"a","text":"x"}\n{"_id":"b","text":\n', 'corpus.jsonl'));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(/^corpus\.jsonl:2: invalid JSON/);
    expect(e.details).toMatchObject({ file: 'corpus.jsonl', line: 2 });
    e = errorOf(() => parseCorpusJsonl('{"_id":"a","text":"x"}\n\n{"_id":"a","text":"y"}', 'c.jsonl'));
    expect(e.message).toMatch(/^c\.jsonl:3: duplicate _id "a"/);
    e = errorOf(() => parseQueriesJsonl('{"text":"x"}', 'q.jsonl'));
    expect(e.message).toMatch(/^q\.jsonl:1: missing or empty "_id"/);
    e = errorOf(() => parseQueriesJsonl('{"_id":"1","text":3}', 'q.jsonl'));
    expect(e.message).toMatch(/"text" must be a string/);
  });

  it('parses qrels TSV with header; rejects bad rows', () => {
    const q = parseQrelsTsv('query-id\tcorpus-id\tscore\n1\td1\t2\n1\td2\t0\n2\td1\t1\n');
    expect(q.get('1')).toEqual(
      new Map([
        ['d1', 2],
        ['d2', 0],
      ]),
    );
    expect(q.get('2')).toEqual(new Map([['d1', 1]]));
    expect(errorOf(() => parseQrelsTsv('1\td1\t1\n', 'qrels/test.tsv')).message).toMatch(
      /^qrels\/test\.tsv:1: expected the header/,
    );
    expect(errorOf(() => parseQrelsTsv('query-id\tcorpus-id\tscore\n1\td1\tx\n', 't.tsv')).message).toMatch(
      /^t\.tsv:2: score "x"/,
    );
    expect(errorOf(() => parseQrelsTsv('query-id\tcorpus-id\tscore\n1\td1\n', 't.tsv')).message).toMatch(
      /^t\.tsv:2: expected 3/,
    );
    expect(errorOf(() => parseQrelsTsv('query-id\tcorpus-id\tscore\n1\td1\t1\n1\td1\t0\n', 't.tsv')).message).toMatch(
      /^t\.tsv:3: duplicate/,
    );
  });

  it('drops qrels queries that queries.jsonl lacks', () => {
    const q = parseQrelsTsv('query-id\tcorpus-id\tscore\n1\td1\t1\n2\td1\t1\n');
    const r = qrelsWithQueries(q, new Map([['1', {}]]));
    expect([...r.qrels.keys()]).toEqual(['1']);
    expect(r.missing).toEqual(['2']);
  });

  it('loads a folder from disk with every qrels split', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'beir-'));
    await mkdir(join(dir, 'qrels'));
    await writeFile(join(dir, 'corpus.jsonl'), '{"_id":"d1","title":"","text":"a"}\n');
    await writeFile(join(dir, 'queries.jsonl'), '{"_id":"q1","text":"a"}\n');
    await writeFile(join(dir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1\n');
    const ds = await loadBeirDir(dir);
    expect(ds.corpus).toHaveLength(1);
    expect([...ds.qrels.keys()]).toEqual(['test']);
    await expect(loadBeirDir(join(dir, 'nope'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
});

describe('hash split (docs/SPLITS.md)', () => {
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  const utf8 = (t: string) => new TextEncoder().encode(t);
  it('SHA-1 matches FIPS 180-4 check values, across block boundaries', () => {
    expect(hex(sha1(utf8('')))).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
    expect(hex(sha1(utf8('abc')))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(hex(sha1(utf8('h\u00e9llo')))).toBe('35b5ea45c5e41f78b46a937cc74d41dfea920890');
    expect(hex(sha1(utf8('x'.repeat(55))))).toBe('cef734ba81a024479e09eb5a75b6ddae62e6abf1');
    expect(hex(sha1(utf8('x'.repeat(56))))).toBe('901305367c259952f4e7af8323f480d59f81335b');
    expect(hex(sha1(utf8('x'.repeat(64))))).toBe('bb2fa3ee7afb9f54c6dfb5d021f14b1ffe40c163');
    expect(hex(sha1(utf8('a'.repeat(1000))))).toBe('291e9a6c66994949b57ba5e650361e98fc36b1ba');
  });
  it('first sha1 byte even -> train, odd -> test (tools/train/train.py hash_train_half)', () => {
    expect(hashHalf('1')).toBe('test'); // 0x35
    expect(hashHalf('2')).toBe('train'); // 0xda
    expect(hashHalf('a')).toBe('train'); // 0x86
    expect(hashHalf('abc')).toBe('test'); // 0xa9
  });
  it('splits a domain without train qrels, leaves one with train qrels alone', () => {
    const test = new Map(Array.from({ length: 200 }, (_, i) => [String(i + 1), new Map([['d', 1]])]));
    const noTrain = { name: 'cranfield', qrels: new Map([['test', test]]) };
    const tr = resolveSplit(noTrain, 'train', true);
    const te = resolveSplit(noTrain, 'test', true);
    expect(tr.hashed && te.hashed).toBe(true);
    expect(tr.qrels.size + te.qrels.size).toBe(200);
    for (const k of tr.qrels.keys()) expect(te.qrels.has(k)).toBe(false);
    expect(tr.qrels.size).toBeGreaterThan(60);
    expect(te.source).toBe('sha1-odd-half(qrels/test.tsv)');
    expect(resolveSplit(noTrain, 'test', false).qrels).toBe(test);
    expect(() => resolveSplit(noTrain, 'train', false)).toThrow(/no qrels\/train\.tsv/);
    const withTrain = {
      name: 'scifact',
      qrels: new Map([
        ['test', test],
        ['train', splitQrels(test, 'train')],
      ]),
    };
    expect(resolveSplit(withTrain, 'test', true).source).toBe('qrels/test.tsv');
  });
});
