/** Where a model named by a string lives: the one resolver the worker's downloads and the main thread's manifest lookup share. */
import { RouterRetrieverError } from './errors.js';

const HUB = 'https://huggingface.co/';

/**
 * "facebook/contriever" (or "facebook/contriever@rev") → https://huggingface.co/facebook/contriever/resolve/main/.
 * URLs ("https://…", "/models/x", "./x", "../x", "blob:…") are kept, with a trailing slash added.
 */
export function resolveBaseUrl(location: string): string {
  const s = location.trim();
  if (s === '')
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      'The model location is empty: pass a URL, a path such as /models/contriever, or a Hub id such as facebook/contriever.',
    );
  const hub = /^([A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*)(?:@([A-Za-z0-9_./-]+))?\/?$/.exec(s);
  if (hub && !s.startsWith('.') && !s.includes('://')) {
    const rev = hub[2] ?? 'main';
    return `${HUB}${hub[1]}/resolve/${rev.split('/').map(encodeURIComponent).join('%2F')}/`;
  }
  return s.endsWith('/') ? s : `${s}/`;
}
