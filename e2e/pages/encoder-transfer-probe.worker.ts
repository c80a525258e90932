/** The encoder worker with its outgoing transfers reported (see encoder-transfer-probe-patch.ts). */
import './encoder-transfer-probe-patch.js';
import '../../workers/encoder.worker.js';
