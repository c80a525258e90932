// Typechecked by the e2e test under moduleResolution nodenext and bundler, against the d.ts files
// of the installed tarball. Each line uses a field a broken import would lose (types as `any`
// would pass silently, so `noImplicitAny` and these annotations make a lost type an error).
import {
  type IndexProgress,
  type OpenOptions,
  type RouterRetriever,
  RouterRetrieverError,
  type SearchResult,
} from 'router-retriever-web';
import { EncoderEngine, type EmbedProgress, type LoadProgress } from 'router-retriever-web/node';
import { defineRouterSearch, RouterSearchElement } from 'router-retriever-web/widget';

const progress: IndexProgress = { phase: 'embed', done: 1, total: 2, docsPerSec: 3, etaSec: null };
const embed: EmbedProgress = { done: 1, total: 2, docsPerSec: 3, etaSec: 4 };
const load: LoadProgress = { phase: 'download', file: 'config.json', loaded: 1, total: null };
const phase: LoadProgress['phase'] = load.phase;
const open: Pick<OpenOptions, 'name' | 'model'> = { name: 'docs', model: '/models/m/' };
const code: RouterRetrieverError['code'] = new RouterRetrieverError('INVALID_INPUT', 'x').code;
const engine: EncoderEngine = new EncoderEngine();
const search = (rr: RouterRetriever, q: string): Promise<SearchResult> => rr.search(q, { k: 3, expert: 'auto' });
const tag: typeof RouterSearchElement = RouterSearchElement;
defineRouterSearch('my-search');
// @ts-expect-error: an IndexProgress phase is 'embed' or 'store'
const wrong: IndexProgress['phase'] = 'download';
export { code, embed, engine, open, phase, progress, search, tag, wrong };
