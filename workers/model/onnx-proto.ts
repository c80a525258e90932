/**
 * A minimal protobuf WRITER for the subset of onnx.proto3 that buildBertGraph needs.
 *
 * Messages are described as plain objects, sized in a first pass and written in a second pass
 * into one Uint8Array allocated once (a BERT-base graph carries ~440 MB of initializers, so no
 * intermediate buffers). Tensor payloads can be given as bytes or as a callback that fills the
 * tensor in place (used to transpose Linear weights straight into the output).
 *
 * Field numbers follow https://github.com/onnx/onnx/blob/main/onnx/onnx.proto.
 */
import { RouterRetrieverError } from '../../src/boundary/errors.js';

/** TensorProto.DataType values. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
} as const;
export type DataTypeValue = (typeof DataType)[keyof typeof DataType];

const BYTES_PER_ELEMENT: Record<number, number> = { 1: 4, 2: 1, 3: 1, 6: 4, 7: 8, 9: 1, 10: 2 };

/** Tensor payload: little-endian bytes, or a writer that fills `dst` (exactly byteLength bytes). */
export type RawData = Uint8Array | { byteLength: number; fill: (dst: Uint8Array) => void };

export interface TensorProtoSpec {
  name: string;
  dataType: DataTypeValue;
  dims: number[];
  raw: RawData;
}

export type AttributeValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: TensorProtoSpec }
  | { kind: 'graph'; value: GraphSpec };

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface ValueInfoSpec {
  name: string;
  elemType: DataTypeValue;
  /** number => dim_value, string => dim_param (symbolic); null => shape unknown (not even the rank). */
  shape: (number | string)[] | null;
}

/** A GraphProto: the model's main graph, or a subgraph held by a node attribute (e.g. If's branches). */
export interface GraphSpec {
  name: string;
  nodes: NodeSpec[];
  initializers: TensorProtoSpec[];
  inputs: ValueInfoSpec[];
  outputs: ValueInfoSpec[];
}

export interface ModelSpec {
  graphName: string;
  nodes: NodeSpec[];
  initializers: TensorProtoSpec[];
  inputs: ValueInfoSpec[];
  outputs: ValueInfoSpec[];
  producerName?: string;
  irVersion?: number;
  /** domain '' = default ONNX domain. */
  opsets?: { domain: string; version: number }[];
}

// ---------------------------------------------------------------------------------------------
// A tiny message tree: every field is pre-encoded lazily; sizes are computed once and cached.

const WT_VARINT = 0;
const WT_I32 = 5;
const WT_LEN = 2;

type Field =
  | { no: number; t: 'varint'; v: number }
  | { no: number; t: 'f32'; v: number }
  | { no: number; t: 'bytes'; v: Uint8Array }
  | { no: number; t: 'raw'; v: RawData }
  | { no: number; t: 'packed'; v: number[] }
  | { no: number; t: 'msg'; v: Msg };

interface Msg {
  fields: Field[];
  size: number; // -1 until computed
}

const utf8 = new TextEncoder();

function msg(fields: Field[]): Msg {
  return { fields, size: -1 };
}
function str(no: number, s: string): Field {
  return { no, t: 'bytes', v: utf8.encode(s) };
}
function int(no: number, v: number): Field {
  return { no, t: 'varint', v };
}
function sub(no: number, m: Msg): Field {
  return { no, t: 'msg', v: m };
}

function varintSize(v: number): number {
  if (v < 0) return 10; // negative int64 as two's complement
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function fieldSize(f: Field): number {
  const tag = varintSize(f.no << 3);
  switch (f.t) {
    case 'varint':
      return tag + varintSize(f.v);
    case 'f32':
      return tag + 4;
    case 'bytes':
    case 'raw': {
      const len = f.v.byteLength;
      return tag + varintSize(len) + len;
    }
    case 'packed': {
      let len = 0;
      for (const x of f.v) len += varintSize(x);
      return tag + varintSize(len) + len;
    }
    case 'msg': {
      const len = msgSize(f.v);
      return tag + varintSize(len) + len;
    }
  }
}

function msgSize(m: Msg): number {
  if (m.size >= 0) return m.size;
  let s = 0;
  for (const f of m.fields) s += fieldSize(f);
  m.size = s;
  return s;
}

class Writer {
  pos = 0;
  private readonly view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  varint(v: number): void {
    const b = this.buf;
    if (v < 0) {
      // two's complement, 10 bytes
      let big = BigInt.asUintN(64, BigInt(v));
      for (let i = 0; i < 9; i++) {
        b[this.pos++] = Number(big & 0x7fn) | 0x80;
        big >>= 7n;
      }
      b[this.pos++] = Number(big);
      return;
    }
    while (v >= 128) {
      b[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    b[this.pos++] = v;
  }
  tag(no: number, wt: number): void {
    this.varint((no << 3) | wt);
  }
  field(f: Field): void {
    switch (f.t) {
      case 'varint':
        this.tag(f.no, WT_VARINT);
        this.varint(f.v);
        return;
      case 'f32':
        this.tag(f.no, WT_I32);
        this.view.setFloat32(this.pos, f.v, true);
        this.pos += 4;
        return;
      case 'bytes':
        this.tag(f.no, WT_LEN);
        this.varint(f.v.byteLength);
        this.buf.set(f.v, this.pos);
        this.pos += f.v.byteLength;
        return;
      case 'raw': {
        this.tag(f.no, WT_LEN);
        const len = f.v.byteLength;
        this.varint(len);
        const dst = this.buf.subarray(this.pos, this.pos + len);
        if (f.v instanceof Uint8Array) dst.set(f.v);
        else f.v.fill(dst);
        this.pos += len;
        return;
      }
      case 'packed': {
        this.tag(f.no, WT_LEN);
        let len = 0;
        for (const x of f.v) len += varintSize(x);
        this.varint(len);
        for (const x of f.v) this.varint(x);
        return;
      }
      case 'msg':
        this.tag(f.no, WT_LEN);
        this.varint(msgSize(f.v));
        for (const g of f.v.fields) this.field(g);
        return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// ONNX messages.

function tensorMsg(t: TensorProtoSpec): Msg {
  const n = t.dims.reduce((a, b) => a * b, 1);
  const expected = n * (BYTES_PER_ELEMENT[t.dataType] ?? 0);
  if (t.raw.byteLength !== expected) {
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `Tensor "${t.name}": ${t.raw.byteLength} bytes of data for shape [${t.dims.join(', ')}] (expected ${expected}).`,
      { tensor: t.name },
    );
  }
  // TensorProto: dims=1 (packed int64), data_type=2, name=8, raw_data=9
  const fields: Field[] = [];
  if (t.dims.length > 0) fields.push({ no: 1, t: 'packed', v: t.dims });
  fields.push(int(2, t.dataType), str(8, t.name), { no: 9, t: 'raw', v: t.raw });
  return msg(fields);
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_TENSOR = 4;
const ATTR_GRAPH = 5;
const ATTR_INTS = 7;

function attributeMsg(name: string, a: AttributeValue): Msg {
  // AttributeProto: name=1, f=2, i=3, s=4, t=5, ints=8, type=20
  const fields: Field[] = [str(1, name)];
  switch (a.kind) {
    case 'float':
      fields.push({ no: 2, t: 'f32', v: a.value }, int(20, ATTR_FLOAT));
      break;
    case 'int':
      fields.push(int(3, a.value), int(20, ATTR_INT));
      break;
    case 'string':
      fields.push(str(4, a.value), int(20, ATTR_STRING));
      break;
    case 'tensor':
      fields.push(sub(5, tensorMsg(a.value)), int(20, ATTR_TENSOR));
      break;
    case 'ints':
      fields.push({ no: 8, t: 'packed', v: a.value }, int(20, ATTR_INTS));
      break;
    case 'graph':
      fields.push(sub(6, graphMsg(a.value)), int(20, ATTR_GRAPH));
      break;
  }
  return msg(fields);
}

function nodeMsg(n: NodeSpec): Msg {
  // NodeProto: input=1, output=2, name=3, op_type=4, attribute=5, domain=7
  const fields: Field[] = [];
  for (const i of n.inputs) fields.push(str(1, i));
  for (const o of n.outputs) fields.push(str(2, o));
  if (n.name) fields.push(str(3, n.name));
  fields.push(str(4, n.opType));
  for (const [k, v] of Object.entries(n.attributes ?? {})) fields.push(sub(5, attributeMsg(k, v)));
  if (n.domain) fields.push(str(7, n.domain));
  return msg(fields);
}

function valueInfoMsg(v: ValueInfoSpec): Msg {
  // ValueInfoProto: name=1, type=2; TypeProto: tensor_type=1; TypeProto.Tensor: elem_type=1, shape=2;
  // TensorShapeProto: dim=1; Dimension: dim_value=1, dim_param=2
  const tensorType = v.shape
    ? msg([
        int(1, v.elemType),
        sub(2, msg(v.shape.map((d) => sub(1, msg([typeof d === 'number' ? int(1, d) : str(2, d)]))))),
      ])
    : msg([int(1, v.elemType)]);
  return msg([str(1, v.name), sub(2, msg([sub(1, tensorType)]))]);
}

function graphMsg(g: GraphSpec): Msg {
  // GraphProto: node=1, name=2, initializer=5, input=11, output=12
  const fields: Field[] = [];
  for (const n of g.nodes) fields.push(sub(1, nodeMsg(n)));
  fields.push(str(2, g.name));
  for (const t of g.initializers) fields.push(sub(5, tensorMsg(t)));
  for (const i of g.inputs) fields.push(sub(11, valueInfoMsg(i)));
  for (const o of g.outputs) fields.push(sub(12, valueInfoMsg(o)));
  return msg(fields);
}

/** Serialises a ModelProto into one freshly allocated Uint8Array. */
export function encodeModel(spec: ModelSpec): Uint8Array {
  // ModelProto: ir_version=1, producer_name=2, producer_version=3, graph=7, opset_import=8
  // OperatorSetIdProto: domain=1, version=2
  const opsets = spec.opsets ?? [{ domain: '', version: 17 }];
  const model = msg([
    int(1, spec.irVersion ?? 8),
    str(2, spec.producerName ?? 'router-retriever-web'),
    str(3, '0.1.0'),
    sub(
      7,
      graphMsg({
        name: spec.graphName,
        nodes: spec.nodes,
        initializers: spec.initializers,
        inputs: spec.inputs,
        outputs: spec.outputs,
      }),
    ),
    ...opsets.map((o) => sub(8, msg(o.domain ? [str(1, o.domain), int(2, o.version)] : [int(2, o.version)]))),
  ]);
  const size = msgSize(model);
  const out = new Uint8Array(size);
  const w = new Writer(out);
  for (const f of model.fields) w.field(f);
  if (w.pos !== size) throw new Error(`onnx-proto: wrote ${w.pos} bytes, expected ${size}`);
  return out;
}

/** Little-endian bytes of typed array data (a view, no copy, on little-endian hosts). */
export function bytesOf(a: Float32Array | Int32Array | BigInt64Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Float32 raw data helpers. */
export function f32Raw(data: Float32Array): RawData {
  return bytesOf(data);
}

export function i64Raw(values: number[]): RawData {
  return bytesOf(BigInt64Array.from(values.map((v) => BigInt(v))));
}
