/** Chromium trace of a page's main thread: every top-level task with its wall and thread-CPU time. */
import type { Page } from '@playwright/test';

export interface TaskTime {
  wallMs: number;
  cpuMs: number;
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/**
 * Runs `fn` while tracing and returns the top-level tasks of the page's renderer main thread.
 * Thread CPU (`tdur`) is what the page did itself; wall time also holds descheduling by other
 * processes, so on a loaded machine it is stretched while thread CPU is not.
 */
export async function traceMainThreadTasks<T>(
  page: Page,
  fn: () => Promise<T>,
): Promise<{ result: T; tasks: TaskTime[] }> {
  const browser = page.context().browser();
  if (!browser) throw new Error('tracing needs a browser launched by Playwright');
  await browser.startTracing(page, { categories: ['toplevel', 'disabled-by-default-devtools.timeline'] });
  let result: T;
  let buf: Buffer;
  try {
    result = await fn();
  } finally {
    buf = await browser.stopTracing();
  }
  const events = (JSON.parse(buf.toString()) as { traceEvents: TraceEvent[] }).traceEvents;
  const mains = new Set(
    events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`),
  );
  const byThread = new Map<string, TaskTime[]>();
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`;
    if (e.ph !== 'X' || e.name !== 'ThreadControllerImpl::RunTask' || !mains.has(key) || e.dur === undefined) continue;
    const list = byThread.get(key) ?? [];
    list.push({ wallMs: e.dur / 1000, cpuMs: (e.tdur ?? 0) / 1000 });
    byThread.set(key, list);
  }
  // The page's renderer main thread is the busiest one.
  const cpuOf = (ts: TaskTime[]) => ts.reduce((a, t) => a + t.cpuMs, 0);
  const busiest = [...byThread.values()].sort((a, b) => cpuOf(b) - cpuOf(a))[0] ?? [];
  return { result, tasks: busiest };
}
