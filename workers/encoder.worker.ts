/**
 * The encoder Web Worker: EncoderEngine exposed with comlink. The boundary's transfer handlers
 * (src/boundary/transfer.ts) move Float32Array results to the caller instead of copying them.
 */
import { expose } from 'comlink';
import { installTransferHandlers } from '../src/boundary/transfer.js';
import { EncoderEngine } from './engine/encoder-engine.js';

installTransferHandlers();

expose(new EncoderEngine());
