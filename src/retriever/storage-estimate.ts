/** navigator.storage.estimate() as stats() reports it: null where the browser (or Node) has no StorageManager. */
export async function storageEstimate(): Promise<{ usageBytes: number | null; quotaBytes: number | null }> {
  try {
    const est = await globalThis.navigator?.storage?.estimate?.();
    if (est) return { usageBytes: est.usage ?? null, quotaBytes: est.quota ?? null };
  } catch {
    /* no StorageManager */
  }
  return { usageBytes: null, quotaBytes: null };
}
