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
} from './schema.js';
export { allocateSlots, releaseSlots, slotPosition, type SlotState } from './slots.js';
export { encodeContainer, decodeContainer, type CollectionFileHeader, type BlobRef } from './container.js';
