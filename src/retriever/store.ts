import type { CollectionStore } from '../store/collection.js';

/** What the retriever's parts use of CollectionStore (a fake with these members stands in for it in unit tests). */
export type RetrieverStore = Pick<
  CollectionStore,
  | 'meta'
  | 'getDoc'
  | 'getDocs'
  | 'putDocs'
  | 'writeDocs'
  | 'analyze'
  | 'loadIndex'
  | 'lexicon'
  | 'analyzedDocuments'
  | 'getPilotExtras'
  | 'deleteDocs'
  | 'storedIds'
  | 'pendingDocs'
  | 'loadAll'
  | 'docCount'
  | 'putExpert'
  | 'getExperts'
  | 'deleteExpert'
  | 'putPilots'
  | 'getPilots'
  | 'getPilotState'
>;
