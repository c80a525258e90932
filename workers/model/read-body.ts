/** A fetched file's body, streamed with progress and checked against its declared length. */
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import type { FileProgress } from './file-source.js';

export function networkError(
  url: string,
  problem: string,
  details: Record<string, unknown> = {},
): RouterRetrieverError {
  return new RouterRetrieverError('NETWORK', `Could not download ${url}: ${problem}`, { url, ...details });
}

/** The whole body; a NETWORK error when it stops short of its Content-Length or breaks off. */
export async function readBody(
  res: Response,
  url: string,
  name: string,
  onProgress?: (p: FileProgress) => void,
): Promise<Uint8Array> {
  const encoding = res.headers.get('content-encoding');
  const lenHeader = res.headers.get('content-length');
  // With a content-encoding, content-length counts compressed bytes while we see decoded ones.
  let total: number | null = lenHeader !== null && (!encoding || encoding === 'identity') ? Number(lenHeader) : null;
  if (total !== null && (!Number.isSafeInteger(total) || total < 0)) total = null;
  onProgress?.({ file: name, loaded: 0, total });

  try {
    if (!res.body) {
      const bytes = new Uint8Array(await res.arrayBuffer());
      onProgress?.({ file: name, loaded: bytes.byteLength, total: total ?? bytes.byteLength });
      return bytes;
    }
    const reader = res.body.getReader();
    let buf = new Uint8Array(total ?? 1 << 16);
    let loaded = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!value || value.byteLength === 0) continue;
      if (loaded + value.byteLength > buf.byteLength) {
        const grown = new Uint8Array(Math.max(buf.byteLength * 2, loaded + value.byteLength));
        grown.set(buf.subarray(0, loaded));
        buf = grown;
      }
      buf.set(value, loaded);
      loaded += value.byteLength;
      onProgress?.({ file: name, loaded, total });
    }
    if (total !== null && loaded !== total) {
      throw networkError(
        url,
        `the download stopped after ${loaded} of ${total} bytes. Check the connection and try again.`,
        { loaded, total },
      );
    }
    if (total === null) onProgress?.({ file: name, loaded, total: loaded });
    return loaded === buf.byteLength ? buf : buf.slice(0, loaded);
  } catch (e) {
    if (e instanceof RouterRetrieverError) throw e;
    throw networkError(
      url,
      `the download failed midway (${(e as Error)?.message ?? String(e)}). Check the connection and try again.`,
    );
  }
}
