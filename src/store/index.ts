export { CollectionStore, REQUEST_BATCH, type OpenCollectionOptions } from './collection.js';
export {
  SCHEMA_VERSION,
  DB_PREFIX,
  dbName,
  MIGRATIONS,
  migrate,
  type CollectionDB,
  type CollectionMeta,
  type DocRecord,
  type ChunkRecord,
  type ExpertRecord,
  type PilotRecord,
  type PilotStateRecord,
  type TermChunkRecord,
  type LexiconRecord,
} from './schema.js';
export type { IndexSnapshot } from './lexical.js';
export type { WrittenDocs } from './documents.js';
export { allocateSlots, releaseSlots, slotPosition, type SlotState } from './slots.js';
export {
  encodeContainer,
  decodeContainer,
  FILE_VERSIONS,
  type CollectionFileHeader,
  type BlobRef,
} from './container.js';
