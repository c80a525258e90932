/** Expert records and the pilot library (vectors per expert, in expert order, plus the builder's opaque state). */
import { RouterRetrieverError } from '../boundary/errors.js';
import { checkVector, type PilotLibrary } from '../vectors.js';
import { settle, type Connection } from './connection.js';
import type { PilotExtras } from '../router/library-file.js';
import {
  ABSTAIN_KEY,
  FUSION_KEY,
  PILOT_STATE_KEY,
  type ExpertRecord,
  type PilotRecord,
  type PilotStateRecord,
} from './schema.js';

export async function putExpert(conn: Connection, expert: ExpertRecord): Promise<void> {
  if (typeof expert?.name !== 'string' || expert.name === '')
    throw new RouterRetrieverError('INVALID_INPUT', 'An expert needs a non-empty name.');
  let config = 0;
  try {
    config = JSON.stringify(expert.config)?.length ?? 0;
  } catch {
    /* not JSON: the estimate leaves it out */
  }
  const bytes = Object.values(expert.files ?? {}).reduce((s, b) => s + b.byteLength, 0) + config;
  await conn.write(['experts'], bytes, `saving expert "${expert.name}"`, async (tx) => {
    await tx.objectStore('experts').put({ addedAt: Date.now(), ...expert });
  });
}

export async function getExperts(conn: Connection): Promise<ExpertRecord[]> {
  return (await conn.db()).getAll('experts');
}

/** Removes an expert and its pilot embeddings in one transaction. Documents are untouched. */
export async function deleteExpert(conn: Connection, name: string): Promise<void> {
  await conn.write(['experts', 'pilots'], 0, `removing expert "${name}"`, async (tx) => {
    await tx.objectStore('experts').delete(name);
    await tx.objectStore('pilots').delete(name);
  });
}

/**
 * Replaces the whole pilot library, the builder state and the extras (fusion setting, abstention
 * rule) in one transaction: what is absent is deleted. Expert order is kept.
 */
export async function putPilots(
  conn: Connection,
  pilots: ReadonlyMap<string, readonly Float32Array[]>,
  state?: PilotStateRecord,
  extras: PilotExtras = {},
): Promise<void> {
  const { fusion, abstain } = extras;
  const dim = conn.meta.dim;
  const recs: PilotRecord[] = [];
  let order = 0;
  for (const [expert, list] of pilots) {
    const buf = new Float32Array(list.length * dim);
    list.forEach((v, i) => buf.set(checkVector(v, dim, `Pilot ${i} of expert "${expert}"`), i * dim));
    recs.push({ expert, order: order++, dim, vectors: buf.buffer });
  }
  const bytes =
    recs.reduce((s, r) => s + r.vectors.byteLength, 0) +
    (abstain ? abstain.codes.byteLength + abstain.scales.byteLength + abstain.gains.byteLength : 0);
  await conn.write(['pilots', 'meta'], bytes, 'saving the pilot library', async (tx) => {
    const st = tx.objectStore('pilots');
    await st.clear();
    await Promise.all(recs.map((r) => settle(st.put(r))));
    if (state) await tx.objectStore('meta').put(state, PILOT_STATE_KEY);
    else await tx.objectStore('meta').delete(PILOT_STATE_KEY);
    if (fusion) await tx.objectStore('meta').put({ ...fusion }, FUSION_KEY);
    else await tx.objectStore('meta').delete(FUSION_KEY);
    if (abstain) await tx.objectStore('meta').put({ ...abstain }, ABSTAIN_KEY);
    else await tx.objectStore('meta').delete(ABSTAIN_KEY);
  });
}

/** The fusion setting and abstention rule stored with the pilot library (those it has). */
export async function getPilotExtras(conn: Connection): Promise<PilotExtras> {
  const tx = (await conn.db()).transaction('meta');
  const [fusion, abstain] = await Promise.all([tx.store.get(FUSION_KEY), tx.store.get(ABSTAIN_KEY)]);
  await tx.done;
  const out: PilotExtras = {};
  if (fusion) out.fusion = fusion as PilotExtras['fusion'];
  if (abstain) out.abstain = abstain as PilotExtras['abstain'];
  return out;
}

export async function getPilots(conn: Connection): Promise<PilotLibrary> {
  const recs = await (await conn.db()).getAll('pilots');
  recs.sort((a, b) => a.order - b.order);
  const out: PilotLibrary = new Map();
  for (const r of recs) {
    const f = new Float32Array(r.vectors);
    const list: Float32Array[] = [];
    for (let i = 0; i < f.length / r.dim; i++) list.push(f.slice(i * r.dim, (i + 1) * r.dim));
    out.set(r.expert, list);
  }
  return out;
}

/** The builder state stored by putPilots (its shape is the caller's: the store keeps it as given). */
export async function getPilotState<T extends PilotStateRecord>(conn: Connection): Promise<T | undefined> {
  return (await (await conn.db()).get('meta', PILOT_STATE_KEY)) as T | undefined;
}
