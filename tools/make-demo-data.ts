/**
 * Builds the demo's bundled sample collection from local BEIR folders:
 *
 *   npx tsx tools/make-demo-data.ts [--beir /work/shared/data/beir] [--out public/demo-data]
 *                                   [--per-domain 600] [--small 60]
 *                                   [--expect label=modelDir,expertsDir,pilots.json] ...
 *
 * Writes (sample data for demonstration only, not part of the SDK package):
 *   sample.jsonl        per-domain documents (ids "<domain>:<id>"), metadata.domain
 *   sample-small.jsonl  a prefix of each domain's documents (300)
 *   sample-tiny.jsonl   the judged and probe documents, text cut to 600 characters (the e2e tests index this one)
 *   queries.json        sources with attribution/licence, known queries with relevant ids,
 *                       and, per --expect model, the top document the whole pipeline returns
 *   tiny-pilots.json    a pilot library for the tiny test fixture (expert-a, expert-b)
 *
 * Selection is deterministic: query and document ids are ordered by FNV-1a hash. Known
 * queries come from the evaluation half of each domain's judged test queries (docs/SPLITS.md)
 * and have at most 3 relevant documents, all of which are included in BOTH samples.
 *
 * --expect runs the real pipeline in Node (EncoderEngine on ORT WASM): base-encoder document
 * embeddings, routing as the SDK's default does (the library's abstention rule when it has one,
 * else the pilot mean), the chosen encoder's query embedding, exact dot-product top 100 fused with the SDK's BM25 top 100 (the default hybrid search). A query keeps an expectation for that model only if its top document is
 * unambiguous (relative margin over the second >= 1e-3) and, for judged queries, relevant.
 * "Probe" queries (the start of a document's own text) give the tiny random fixture something
 * to find; their expected document is the one they were cut from.
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { docText } from '../src/doc.js';
import { hashHalf } from '../src/eval/splits.js';
import { fuse } from '../src/hybrid/fusion.js';
import { DEFAULT_FUSION } from '../src/hybrid/fusion-json.js';
import { decideRoute, type AbstainRule } from '../src/router/abstain.js';
import { readLibraryFile } from '../src/router/library-file.js';
import { LexicalIndex } from '../src/lexical/lexical-index.js';
import { FUSION_DEPTH } from '../src/retriever/search-options.js';
import { routeQuery, type PilotLibrary } from '../src/router/route.js';
import { folderSpec } from './node-folder.js';
import { badArg, parseCli, positiveInt } from './lib/args.js';

interface Source {
  name: string;
  label: string;
  attribution: string;
  licence: string;
  url: string;
  /** Domains without train qrels are hash-split; their known queries come from the test half. */
  hashSplit: boolean;
  /** Which tiny-fixture expert stands in for this domain. */
  fixtureExpert: 'expert-a' | 'expert-b';
}

export const SOURCES: Source[] = [
  {
    name: 'scifact',
    label: 'SciFact',
    attribution: 'Wadden et al. 2020, Allen Institute for AI',
    licence: 'CC BY-NC 2.0',
    url: 'https://github.com/allenai/scifact',
    hashSplit: false,
    fixtureExpert: 'expert-a',
  },
  {
    name: 'nfcorpus',
    label: 'NFCorpus',
    attribution: 'Boteva et al. 2016',
    licence: 'research use only',
    url: 'https://www.cl.uni-heidelberg.de/statnlpgroup/nfcorpus/',
    hashSplit: false,
    fixtureExpert: 'expert-a',
  },
  {
    name: 'arguana',
    label: 'ArguAna',
    attribution: 'Wachsmuth et al. 2018',
    licence: 'research use only',
    url: 'http://argumentation.bplaced.net/arguana/data',
    hashSplit: true,
    fixtureExpert: 'expert-b',
  },
  {
    name: 'cranfield',
    label: 'Cranfield',
    attribution: 'Cleverdon, Cranfield collection (1960s)',
    licence: 'research use (public test collection)',
    url: 'http://ir.dcs.gla.ac.uk/resources/test_collections/cran/',
    hashSplit: true,
    fixtureExpert: 'expert-a',
  },
  {
    name: 'wikiqa',
    label: 'WikiQA',
    attribution: 'Yang et al. 2015, Microsoft Research',
    licence: 'Microsoft Research Data License Agreement',
    url: 'https://www.microsoft.com/en-us/download/details.aspx?id=52419',
    hashSplit: false,
    fixtureExpert: 'expert-b',
  },
];

interface RawDoc {
  _id: string;
  title?: string;
  text: string;
}
export interface SampleDoc {
  id: string;
  title?: string;
  text: string;
  metadata: { domain: string };
}
export interface KnownQuery {
  domain: string;
  id: string;
  text: string;
  /** 'judged': a BEIR test query with its relevant documents; 'probe': the start of one document. */
  kind: 'judged' | 'probe';
  relevant: string[];
  /** Model label -> the document id the pipeline ranks first (only where verified). */
  expected: Record<string, string>;
  /** Model label -> the expert the router picked (null: it kept the query on the base encoder). */
  routed?: Record<string, string | null>;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
const byHash = (a: string, b: string) => fnv1a(a) - fnv1a(b) || (a < b ? -1 : a > b ? 1 : 0);

function readJsonl<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}
function readQrels(path: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  const lines = readFileSync(path, 'utf8').split('\n');
  for (const line of lines.slice(1)) {
    const [q, d, s] = line.split('\t');
    if (!q || !d) continue;
    const score = Number(s);
    if (!(score > 0)) continue;
    if (!out.has(q)) out.set(q, new Map());
    out.get(q)!.set(d, score);
  }
  return out;
}

const MAX_TEXT = 2000;
function clip(text: string): string {
  if (text.length <= MAX_TEXT) return text;
  const cut = text.lastIndexOf(' ', MAX_TEXT);
  return `${text.slice(0, cut > MAX_TEXT / 2 ? cut : MAX_TEXT)} …`;
}

interface Built {
  full: SampleDoc[];
  small: SampleDoc[];
  tiny: SampleDoc[];
  queries: KnownQuery[];
  pilotQueries: Map<string, string[]>;
}

function build(beir: string, perDomain: number, small: number, knownPerDomain: number): Built {
  const full: SampleDoc[] = [];
  const smallDocs: SampleDoc[] = [];
  const tinyDocs: SampleDoc[] = [];
  const queries: KnownQuery[] = [];
  const pilotQueries = new Map<string, string[]>();
  for (const src of SOURCES) {
    const dir = join(beir, src.name);
    const corpus = readJsonl<RawDoc>(join(dir, 'corpus.jsonl'));
    const byId = new Map(corpus.map((d) => [d._id, d]));
    const qtext = new Map(readJsonl<RawDoc>(join(dir, 'queries.jsonl')).map((q) => [q._id, q.text]));
    const qrels = readQrels(join(dir, 'qrels', 'test.tsv'));
    const evalIds = [...qrels.keys()].filter((q) => !src.hashSplit || hashHalf(q) === 'test').sort(byHash);
    const trainIds = src.hashSplit
      ? [...qrels.keys()].filter((q) => hashHalf(q) === 'train').sort(byHash)
      : existsSync(join(dir, 'qrels', 'train.tsv'))
        ? [...readQrels(join(dir, 'qrels', 'train.tsv')).keys()].sort(byHash)
        : [];
    pilotQueries.set(
      src.name,
      trainIds
        .slice(0, 32)
        .map((q) => qtext.get(q)!)
        .filter(Boolean),
    );

    const chosen: string[] = [];
    const known: KnownQuery[] = [];
    for (const q of evalIds) {
      if (known.length >= knownPerDomain) break;
      const rel = [...qrels.get(q)!.keys()].filter((d) => byId.has(d));
      const text = qtext.get(q);
      if (!text || rel.length === 0 || rel.length > 3) continue;
      // ArguAna's queries are whole arguments: keep the short ones for a search box.
      if (text.length > 400) continue;
      known.push({
        domain: src.name,
        id: `${src.name}:q${q}`,
        text,
        kind: 'judged',
        relevant: rel.map((d) => `${src.name}:${d}`),
        expected: {},
      });
      for (const d of rel) if (!chosen.includes(d)) chosen.push(d);
    }
    const rest = corpus
      .map((d) => d._id)
      .filter((id) => !chosen.includes(id) && byId.get(id)!.text.trim())
      .sort(byHash);
    const order = [...chosen, ...rest].slice(0, perDomain);
    const docs = order.map((id) => {
      const d = byId.get(id)!;
      const out: SampleDoc = { id: `${src.name}:${id}`, text: clip(d.text.trim()), metadata: { domain: src.name } };
      if (d.title?.trim()) out.title = d.title.trim();
      return out;
    });
    full.push(...docs);
    smallDocs.push(...docs.slice(0, Math.max(small, chosen.length)));
    // The tiny sample (e2e on slow backends): the judged documents and the probe documents,
    // their text cut to 600 characters.
    const tiny = docs.slice(0, chosen.length + knownPerDomain).map((d) => ({
      ...d,
      text: d.text.length > 600 ? `${d.text.slice(0, d.text.lastIndexOf(' ', 600))} …` : d.text,
    }));
    tinyDocs.push(...tiny);
    // Probes: a document's whole (tiny-sample) text as the query; it should find itself.
    for (const d of tiny.slice(chosen.length)) {
      const words = docText(d);
      known.push({
        domain: src.name,
        id: `${src.name}:probe:${d.id}`,
        text: words,
        kind: 'probe',
        relevant: [d.id],
        expected: {},
      });
    }
    queries.push(...known);
  }
  return { full, small: smallDocs, tiny: tinyDocs, queries, pilotQueries };
}

interface ExpectSpec {
  label: string;
  model: string;
  experts: string;
  pilots: string | null;
}

async function verify(
  spec: ExpectSpec,
  docs: SampleDoc[],
  queries: KnownQuery[],
  fixturePilots: (enc: Encoder) => Promise<PilotLibrary>,
): Promise<void> {
  const { EncoderEngine } = await import('../workers/engine/encoder-engine.js');
  // onnxruntime-node runs the same graph natively (embeddings agree with WASM to ~1e-7; the
  // expectations keep a 1e-3 margin), which makes this tool minutes faster.
  const engine =
    process.env.DEMO_DATA_RUNTIME === 'wasm'
      ? new EncoderEngine()
      : new EncoderEngine({ ort: (await import('onnxruntime-node')) as never, cpuProvider: 'cpu' });
  const info = await engine.load(folderSpec(spec.model), { device: 'wasm' });
  const expertNames = readdirSync(spec.experts).filter((n) => statSync(join(spec.experts, n)).isDirectory());
  for (const n of expertNames) {
    try {
      await engine.addExpert(n, folderSpec(join(spec.experts, n)));
    } catch (e) {
      console.error(`[${spec.label}] skipping expert folder ${n}: ${(e as Error).message}`);
    }
  }
  const file = spec.pilots ? readLibraryFile(readFileSync(spec.pilots, 'utf8')) : null;
  const pilots: PilotLibrary = file
    ? new Map(
        Object.entries(file.pilots as Record<string, number[][]>).map(([k, v]) => [
          k,
          v.map((r) => Float32Array.from(r)),
        ]),
      )
    : await fixturePilots(engine);
  // The page routes as the SDK does by default: the library's abstention rule when it has one.
  const rule: AbstainRule | undefined = file?.abstain;
  const dim = info.dim;
  const t0 = Date.now();
  const D = await engine.embedDocuments(docs.map(docText), { batchSize: 32 });
  console.error(`[${spec.label}] embedded ${docs.length} docs in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // What the page's default search returns: BM25 (the SDK's LexicalIndex, default analyzer) fused
  // with the dense list, the default fusion weights (routed: weight; base: baseWeight).
  const lexical = new LexicalIndex();
  docs.forEach((d, i) => lexical.setRow(i, d.id, lexical.termVector(docText(d))));
  const denseTop = (qv: Float32Array) => {
    const hits = docs.map((d, i) => {
      let s = 0;
      for (let j = 0; j < dim; j++) s += qv[j] * D[i * dim + j];
      return { id: d.id, score: s };
    });
    return hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1)).slice(0, FUSION_DEPTH);
  };
  const top1 = (text: string, qv: Float32Array, routed: boolean) => {
    const weight = routed ? DEFAULT_FUSION.weight : (DEFAULT_FUSION.baseWeight ?? DEFAULT_FUSION.weight);
    const [a, b] = fuse(denseTop(qv), lexical.search(text, FUSION_DEPTH), 2, { method: 'convex', weight });
    return { id: a.id, margin: b ? (a.score - b.score) / Math.max(1e-9, Math.abs(a.score)) : 1 };
  };
  let kept = 0;
  let keptBase = 0;
  for (const q of queries) {
    const base = await engine.embedQuery(q.text, null);
    const r = rule ? decideRoute(base, rule, new Set(pilots.keys())) : routeQuery(base, pilots, 'mean');
    const auto =
      r.expert === null ? top1(q.text, base, false) : top1(q.text, await engine.embedQuery(q.text, r.expert), true);
    if (q.relevant.includes(auto.id) && auto.margin >= 1e-3) {
      q.expected[spec.label] = auto.id;
      (q.routed ??= {})[spec.label] = r.expert;
      kept++;
    }
    // The base encoder alone (the page's "base" column), for the same checks.
    const b = top1(q.text, base, false);
    if (q.relevant.includes(b.id) && b.margin >= 1e-3) {
      q.expected[`${spec.label}/none`] = b.id;
      keptBase++;
    }
  }
  console.error(`[${spec.label}] base encoder: ${keptBase} of ${queries.length} known queries verified`);
  console.error(`[${spec.label}] ${kept} of ${queries.length} known queries verified`);
  await engine.dispose();
}

type Encoder = { embedQueries(t: string[], e: string | null): Promise<Float32Array> };

async function main() {
  const { values: v } = parseCli(
    process.argv.slice(2),
    {
      beir: { type: 'string', default: '/work/shared/data/beir' },
      out: { type: 'string', default: 'public/demo-data' },
      'per-domain': { type: 'string' },
      small: { type: 'string' },
      expect: { type: 'string', multiple: true },
    },
    'the header of tools/make-demo-data.ts',
  );
  const root = resolve(import.meta.dirname, '..');
  const beir = v.beir;
  const out = resolve(root, v.out);
  const perDomain = positiveInt('--per-domain', v['per-domain'], 600);
  const small = positiveInt('--small', v.small, 60);
  const expects: ExpectSpec[] = [];
  for (const e of v.expect ?? []) {
    const [label, rest] = e.split('=');
    if (!rest) badArg(`--expect must be label=model,experts[,pilots], got "${e}"`);
    const [model, experts, pilots] = rest.split(',');
    expects.push({
      label,
      model: resolve(root, model),
      experts: resolve(root, experts),
      pilots: pilots ? resolve(root, pilots) : null,
    });
  }
  if (!expects.some((e) => e.label === 'tiny-bert')) {
    expects.unshift({
      label: 'tiny-bert',
      model: join(root, 'test/fixtures/tiny-bert'),
      experts: join(root, 'test/fixtures/adapters'),
      pilots: null,
    });
  }

  const built = build(beir, perDomain, small, 6);
  mkdirSync(out, { recursive: true });
  const jsonl = (ds: SampleDoc[]) => `${ds.map((d) => JSON.stringify(d)).join('\n')}\n`;
  writeFileSync(join(out, 'sample.jsonl'), jsonl(built.full));
  writeFileSync(join(out, 'sample-small.jsonl'), jsonl(built.small));
  writeFileSync(join(out, 'sample-tiny.jsonl'), jsonl(built.tiny));

  // The tiny fixture's pilot library: centroid of the base embeddings of training queries of
  // the domains each fixture expert stands in for (a stand-in: the fixture is random weights).
  let tinyPilots: Record<string, number[][]> = {};
  const fixturePilots = async (enc: Encoder): Promise<PilotLibrary> => {
    const lib: PilotLibrary = new Map();
    for (const ex of ['expert-a', 'expert-b'] as const) {
      const texts = SOURCES.filter((s) => s.fixtureExpert === ex).flatMap((s) =>
        built.pilotQueries.get(s.name)!.slice(0, 16),
      );
      const E = await enc.embedQueries(texts, null);
      const dim = E.length / texts.length;
      const c = new Float32Array(dim);
      for (let i = 0; i < texts.length; i++) for (let j = 0; j < dim; j++) c[j] += E[i * dim + j] / texts.length;
      lib.set(ex, [c]);
    }
    tinyPilots = Object.fromEntries(
      [...lib].map(([k, v]) => [k, v.map((r) => Array.from(r, (x) => Number(x.toPrecision(7))))]),
    );
    return new Map([...lib].map(([k, v]) => [k, v.map(() => Float32Array.from(tinyPilots[k][0]))]));
  };

  for (const e of expects) {
    // The e2e tests index the tiny sample, for the fixture and for the bundled model alike.
    const docs = built.tiny;
    const qs = e.label === 'tiny-bert' ? built.queries : built.queries.filter((q) => q.kind === 'judged');
    await verify(e, docs, qs, fixturePilots);
  }
  writeFileSync(join(out, 'tiny-pilots.json'), `${JSON.stringify(tinyPilots)}\n`);
  const meta = {
    note: 'Sample data for demonstration only; not part of the SDK package. Each source keeps its own licence.',
    generatedBy: 'tools/make-demo-data.ts',
    files: { full: 'sample.jsonl', small: 'sample-small.jsonl', tiny: 'sample-tiny.jsonl' },
    counts: { full: built.full.length, small: built.small.length, tiny: built.tiny.length },
    sources: SOURCES.map(({ name, label, attribution, licence, url }) => ({
      name,
      label,
      attribution,
      licence,
      url,
      documents: built.full.filter((d) => d.metadata.domain === name).length,
      smallDocuments: built.small.filter((d) => d.metadata.domain === name).length,
      tinyDocuments: built.tiny.filter((d) => d.metadata.domain === name).length,
    })),
    queries: built.queries,
  };
  writeFileSync(join(out, 'queries.json'), `${JSON.stringify(meta, null, 1)}\n`);
  console.error(
    `wrote ${built.full.length} docs (${built.small.length} small), ${built.queries.length} known queries to ${out}`,
  );
}

await main();
