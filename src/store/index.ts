export { CollectionStore, type DocInput, type OpenCollectionOptions } from './collection.js';
export {
  SCHEMA_VERSION,
  DB_PREFIX,
  dbName,
  MIGRATIONS,
  migrate,
  type CollectionMeta,
  type DocRecord,
  type ChunkRecord,
  type ExpertRecord,
  type PilotRecord,
} from './schema.js';
export { encodeContainer, decodeContainer, type CollectionFileHeader, type BlobRef } from './container.js';
