/**
 * `router-retriever-web/widget`: defines <router-search> when imported (the one entry with a
 * side effect; package.json lists it in `sideEffects`). Call defineRouterSearch(tag) for
 * another tag name.
 */
import { defineRouterSearch } from './widget/router-search.js';

export { RouterSearchElement, defineRouterSearch } from './widget/router-search.js';

if (typeof customElements !== 'undefined') defineRouterSearch();
