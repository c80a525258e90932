/**
 * Cross-tab sync: every instance on collection `name` shares a BroadcastChannel; a write
 * announces itself, and the other instances mark their in-memory vectors and pilots stale
 * (reloaded from IndexedDB before their next search).
 */
export class CrossTabSync {
  private channel: BroadcastChannel | undefined;
  /** Another instance changed the collection since the last reload. */
  stale = false;

  constructor(name: string) {
    if (typeof BroadcastChannel === 'undefined') return;
    this.channel = new BroadcastChannel(`router-retriever:${name}`);
    // Node: an open channel must not keep the process alive.
    (this.channel as unknown as { unref?: () => void }).unref?.();
    this.channel.onmessage = () => {
      this.stale = true;
    };
  }

  /** Tells the other instances that this one committed a change. */
  notify(): void {
    this.channel?.postMessage({ type: 'changed' });
  }

  close(): void {
    this.channel?.close();
  }
}
