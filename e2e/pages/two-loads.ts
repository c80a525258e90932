/**
 * Starts several loads of one model in the same tick (e2e/two-loads.spec.ts):
 *   ?loads=widget,open  a <router-search> and a RouterRetriever.open() (the default)
 *   ?loads=open,open    two open() calls
 *   &model=<url>        the model (default the bundled contriever-mini)
 *   &tag=<name>         prefix of the collection names (one per load), e.g. one per tab
 * Each load gets its own collection, hence its own encoder worker and model download. Each
 * indexes DOCS; window.loads[i] resolves to its retriever or rejects with the load's error.
 */
import '../../src/widget.js';
import { RouterRetriever } from '../../src/router-retriever.js';
import type { RouterSearchElement } from '../../src/widget/router-search.js';
import type { Doc } from '../../src/types.js';

const DOCS: Doc[] = [
  { id: 'vaccine', text: 'Vaccines train the immune system to recognise a virus before an infection.' },
  { id: 'volcano', text: 'A volcano erupts when magma rises through the crust and reaches the surface.' },
  { id: 'bread', text: 'Bread dough rises because yeast ferments sugar and releases carbon dioxide.' },
  { id: 'orbit', text: 'The Moon orbits the Earth about once every twenty-seven days.' },
];

const params = new URLSearchParams(location.search);
const model = params.get('model') ?? '/models/contriever-mini/';
const tag = params.get('tag') ?? 'two-loads';
const kinds = (params.get('loads') ?? 'widget,open').split(',');

async function filled(rr: RouterRetriever): Promise<RouterRetriever> {
  if ((await rr.stats()).documents === 0) await rr.add(DOCS);
  return rr;
}

function widgetLoad(collection: string): Promise<RouterRetriever> {
  const el = document.createElement('router-search') as RouterSearchElement;
  el.setAttribute('collection', collection);
  el.setAttribute('model', model);
  el.setAttribute('device', 'wasm');
  el.setAttribute('k', '2');
  el.setAttribute('aria-label', `Search ${collection}`);
  document.getElementById('widgets')!.append(el);
  return el.ready!.then(filled);
}

const loads = kinds.map((kind, i) => {
  const collection = `${tag}-${kind}-${i}`;
  return kind === 'widget'
    ? widgetLoad(collection)
    : RouterRetriever.open({ name: collection, model, device: 'wasm' }).then(filled);
});
for (const l of loads) l.catch(() => undefined); // the spec reads each outcome
(window as unknown as { loads: Promise<RouterRetriever>[] }).loads = loads;
