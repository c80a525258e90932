/**
 * The abstention rule in a pilot library file: the top-level key "_abstain", a small object
 * whose arrays are base64 (little-endian): `codes` int8 (count x dim), `scales` float32 (count),
 * `gains` float32 (count x experts.length). 5,095 training queries x 256 dimensions take 1.7 MB
 * of base64 (float32 JSON numbers would take about 13 MB).
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import type { AbstainRule } from './abstain.js';

export const ABSTAIN_KEY = '_abstain';

export interface AbstainRuleJson {
  method: 'knn';
  k: number;
  minGain: number;
  experts: string[];
  dim: number;
  count: number;
  codes: string;
  scales: string;
  gains: string;
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(s: unknown, field: string): Uint8Array {
  if (typeof s !== 'string') bad(`${field} must be a base64 string.`);
  let bin: string;
  try {
    bin = atob(s);
  } catch {
    bad(`${field} is not valid base64.`);
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function f32Bytes(a: Float32Array): Uint8Array {
  const v = new DataView(new ArrayBuffer(a.length * 4));
  a.forEach((x, i) => v.setFloat32(i * 4, x, true));
  return new Uint8Array(v.buffer);
}

function f32From(b: Uint8Array, n: number, field: string): Float32Array {
  if (b.length !== n * 4) bad(`${field} holds ${b.length / 4} numbers, expected ${n}.`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = v.getFloat32(i * 4, true);
    if (!Number.isFinite(out[i])) bad(`${field} has a non-finite value at ${i}.`);
  }
  return out;
}

function bad(msg: string): never {
  throw new RouterRetrieverError(
    'INVALID_INPUT',
    `The pilot library's "${ABSTAIN_KEY}": ${msg} Rebuild it (buildPilotLibrary, or tools/build-abstention.ts) or remove the key to route without abstaining.`,
  );
}

export function abstainToJson(rule: AbstainRule): AbstainRuleJson {
  return {
    method: rule.method,
    k: rule.k,
    minGain: rule.minGain,
    experts: [...rule.experts],
    dim: rule.dim,
    count: rule.scales.length,
    codes: toBase64(new Uint8Array(rule.codes.buffer, rule.codes.byteOffset, rule.codes.byteLength)),
    scales: toBase64(f32Bytes(rule.scales)),
    gains: toBase64(f32Bytes(rule.gains)),
  };
}

const isPositiveInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 1;

/** Parses and checks "_abstain" (INVALID_INPUT naming the field); `dim` is the model's, when known. */
export function abstainFromJson(x: unknown, dim?: number): AbstainRule {
  const j = x as Partial<AbstainRuleJson> | null;
  if (typeof j !== 'object' || j === null || Array.isArray(j)) bad('must be an object { method: "knn", ... }.');
  if (j.method !== 'knn') bad(`method must be "knn", got ${JSON.stringify(j.method)}.`);
  if (!isPositiveInt(j.k)) bad('k must be an integer >= 1.');
  if (typeof j.minGain !== 'number' || !Number.isFinite(j.minGain)) bad('minGain must be a finite number.');
  const experts = j.experts;
  if (!Array.isArray(experts) || experts.length === 0 || experts.some((e) => typeof e !== 'string' || e === ''))
    bad('experts must be a non-empty array of expert names.');
  if (new Set(experts).size !== experts.length) bad('experts has a name twice.');
  if (!isPositiveInt(j.dim)) bad('dim must be an integer >= 1.');
  if (dim !== undefined && j.dim !== dim) bad(`has ${j.dim}-d embeddings but the model's are ${dim}-d.`);
  if (!isPositiveInt(j.count)) bad('count must be an integer >= 1.');
  const codes = fromBase64(j.codes, 'codes');
  if (codes.length !== j.count * j.dim)
    bad(`codes holds ${codes.length} values, expected count x dim = ${j.count * j.dim}.`);
  const scales = f32From(fromBase64(j.scales, 'scales'), j.count, 'scales');
  const gains = f32From(fromBase64(j.gains, 'gains'), j.count * experts.length, 'gains');
  return {
    method: 'knn',
    k: j.k,
    minGain: j.minGain,
    experts: [...experts],
    dim: j.dim,
    codes: new Int8Array(codes.buffer, codes.byteOffset, codes.length),
    scales,
    gains,
  };
}

/** Throws INVALID_INPUT unless the rule has a gain column for every expert of the library (else such an expert could never be chosen). */
export function checkRuleCovers(rule: AbstainRule, experts: Iterable<string>): void {
  const missing = [...experts].filter((e) => !rule.experts.includes(e));
  if (missing.length > 0)
    bad(
      `has no gains for expert${missing.length > 1 ? 's' : ''} ${missing.map((e) => `"${e}"`).join(', ')}, so the rule could never choose ${missing.length > 1 ? 'them' : 'it'}.`,
    );
}
