/**
 * onnxruntime sessions run one inference at a time. This queue serialises runs and lets
 * interactive work (queries) overtake bulk work (document batches) waiting in line.
 */
export type Priority = 'interactive' | 'bulk';

export class RunQueue {
  private busy = false;
  private readonly waiting: { priority: Priority; start: () => void }[] = [];

  async run<T>(priority: Priority, task: () => Promise<T>): Promise<T> {
    await this.acquire(priority);
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(priority: Priority): Promise<void> {
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const entry = { priority, start: resolve };
      if (priority === 'interactive') {
        const firstBulk = this.waiting.findIndex((w) => w.priority === 'bulk');
        if (firstBulk === -1) this.waiting.push(entry);
        else this.waiting.splice(firstBulk, 0, entry);
      } else {
        this.waiting.push(entry);
      }
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.start();
    else this.busy = false;
  }
}
