/**
 * Fuzzes the model-file readers with mutated copies of the test fixtures: every outcome must be a
 * parse or a RouterRetrieverError with a code, and no case may run long.
 *
 *   npx tsx bench/fuzz-model-files.ts [--cases 3000] [--seed 1] [--json]
 *
 * Inputs: the tiny model's model.safetensors and pytorch_model.bin, an adapter's
 * adapter_model.safetensors and adapter_model.bin, and the data.pkl inside the latter (the
 * pickle reader alone). Mutations (seeded): flip 1-8 bytes in the first 4 KB (headers, central
 * directory of small files), flip bytes anywhere, truncate, overwrite an aligned 32- or 64-bit
 * field with a large value, insert or duplicate a run of bytes, zero the tail. Prints, per reader,
 * the counts of parses, typed errors by code, other errors (a crash that is not typed) and the
 * slowest case; --json writes bench/results/fuzz-model-files.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isRouterRetrieverError } from '../src/boundary/errors.js';
import { mulberry32 } from '../src/router/random.js';
import { unpickle } from '../workers/model/pickle.js';
import { parseSafetensors } from '../workers/model/safetensors.js';
import { parseTorchBin } from '../workers/model/torch-bin.js';
import { ZipReader } from '../workers/model/zip.js';
import { parseCli, positiveInt } from '../tools/lib/args.js';
import { formatTable } from './lib/table.js';

const ROOT = resolve(import.meta.dirname, '..');
const FIX = join(ROOT, 'test', 'fixtures');
const { values: v } = parseCli(
  process.argv.slice(2),
  { cases: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' } },
  'the header of bench/fuzz-model-files.ts',
);
const cases = positiveInt('--cases', v.cases, 3000);
const rand = mulberry32(positiveInt('--seed', v.seed, 1));
const int = (n: number) => Math.floor(rand() * n);

const adapterBin = new Uint8Array(readFileSync(join(FIX, 'adapters', 'expert-b', 'adapter_model.bin')));
const zip = ZipReader.open(adapterBin);
const pklName = zip.names.find((n) => n.endsWith('data.pkl'))!;
const inputs: { name: string; bytes: Uint8Array; read: (b: Uint8Array) => unknown }[] = [
  {
    name: 'model.safetensors',
    bytes: new Uint8Array(readFileSync(join(FIX, 'tiny-bert', 'model.safetensors'))),
    read: (b) => parseSafetensors(b),
  },
  {
    name: 'pytorch_model.bin',
    bytes: new Uint8Array(readFileSync(join(FIX, 'tiny-bert', 'pytorch_model.bin'))),
    read: (b) => parseTorchBin(b),
  },
  {
    name: 'adapter_model.safetensors',
    bytes: new Uint8Array(readFileSync(join(FIX, 'adapters', 'expert-a', 'adapter_model.safetensors'))),
    read: (b) => parseSafetensors(b),
  },
  { name: 'adapter_model.bin', bytes: adapterBin, read: (b) => parseTorchBin(b) },
  { name: 'data.pkl', bytes: zip.readSync(pklName).slice(), read: (b) => unpickle(b) },
];

function mutate(src: Uint8Array): Uint8Array {
  const b = src.slice();
  const head = Math.min(b.length, 4096);
  switch (int(7)) {
    case 0:
      for (let i = 0, n = 1 + int(8); i < n; i++) b[int(head)] ^= 1 << int(8);
      return b;
    case 1:
      for (let i = 0, n = 1 + int(8); i < n; i++) b[int(b.length)] = int(256);
      return b;
    case 2:
      return b.slice(0, int(b.length));
    case 3: {
      const at = int(head >> 2) << 2;
      const view = new DataView(b.buffer);
      if (at + 8 <= b.length && rand() < 0.5) view.setBigUint64(at, BigInt(int(2 ** 31)) << BigInt(int(33)), true);
      else if (at + 4 <= b.length)
        view.setUint32(at, [0xffffffff, 0x7fffffff, 1 << int(31), int(2 ** 32)][int(4)], true);
      return b;
    }
    case 4: {
      const at = int(b.length);
      const ins = Uint8Array.from({ length: 1 + int(64) }, () => int(256));
      return Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
    }
    case 5: {
      const at = int(head);
      const len = 1 + int(256);
      return Uint8Array.from([...b.subarray(0, at + len), ...b.subarray(at, at + len), ...b.subarray(at + len)]);
    }
    default:
      b.fill(0, int(b.length));
      return b;
  }
}

interface Row {
  reader: string;
  cases: number;
  parsed: number;
  typed: number;
  untyped: number;
  codes: Record<string, number>;
  maxMs: number;
  untypedExamples: string[];
}
const rows: Row[] = [];
const per = Math.ceil(cases / inputs.length);
for (const input of inputs) {
  const row: Row = {
    reader: input.name,
    cases: per,
    parsed: 0,
    typed: 0,
    untyped: 0,
    codes: {},
    maxMs: 0,
    untypedExamples: [],
  };
  for (let i = 0; i < per; i++) {
    const m = mutate(input.bytes);
    const t0 = performance.now();
    try {
      await input.read(m);
      row.parsed++;
    } catch (e) {
      if (isRouterRetrieverError(e)) {
        row.typed++;
        row.codes[e.code] = (row.codes[e.code] ?? 0) + 1;
      } else {
        row.untyped++;
        if (row.untypedExamples.length < 5) row.untypedExamples.push(String(e).slice(0, 160));
      }
    }
    row.maxMs = Math.max(row.maxMs, performance.now() - t0);
  }
  rows.push(row);
  console.error(`${input.name}: ${per} cases done`);
}
console.log(
  formatTable(rows, [
    { header: 'reader', value: (r) => r.reader },
    { header: 'cases', value: (r) => r.cases, digits: 0 },
    { header: 'parsed', value: (r) => r.parsed, digits: 0 },
    { header: 'typed errors', value: (r) => r.typed, digits: 0 },
    { header: 'other errors', value: (r) => r.untyped, digits: 0 },
    { header: 'slowest ms', value: (r) => r.maxMs, digits: 1 },
    {
      header: 'codes',
      value: (r) =>
        Object.entries(r.codes)
          .map(([c, n]) => `${c} ${n}`)
          .join(', '),
    },
  ]),
);
for (const r of rows) for (const ex of r.untypedExamples) console.log(`  ${r.reader}: ${ex}`);
if (v.json) {
  const out = join(ROOT, 'bench', 'results', 'fuzz-model-files.json');
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ created: new Date().toISOString(), cases, rows }, null, 2)}\n`);
  console.error(`wrote ${out}`);
}
