/** How a bench page hands its API to the Node script driving it (window.bench, window.benchReady). */

/** What the page runs on: cross-origin isolation (needed for WASM threads), cores, browser. */
export const pageEnv = () => ({
  isolated: self.crossOriginIsolated,
  cores: navigator.hardwareConcurrency,
  ua: navigator.userAgent,
});

export function exposeBenchApi(api: object): void {
  const w = window as unknown as Record<string, unknown>;
  w.bench = api;
  w.benchReady = true;
}
