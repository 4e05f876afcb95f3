// V8's memory reducer shrinks the heap after a busy spell through a series
// of incremental collections driven by timers of its own: dozens of wakeups
// a minute, for minutes, in an svscan that has just started its services
// and is otherwise idle. svscan runs without it (--no-memory-reducer, with
// --expose-gc: scripts/build.mjs) and trims its heap here instead, inside a
// wakeup it has anyway (the 5-second rescan; svweb: its 5-second look).
import v8 from 'node:v8';

/**
 * Growth of the used heap since the last collection here that is worth a
 * full one: more than an idle svscan's rescans leave in a few minutes (a
 * host of 200 services, 1 MB a minute or so: each full collection also
 * wakes a V8 helper thread once), less than a start of many services.
 */
const GROWTH_BYTES = 4 << 20;
let usedAfterLast = 0;

/** A full collection now if the heap has grown by GROWTH_BYTES since the last one (nothing without --expose-gc). */
export function trimHeap(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  if (v8.getHeapStatistics().used_heap_size - usedAfterLast < GROWTH_BYTES) return;
  gc();
  usedAfterLast = v8.getHeapStatistics().used_heap_size;
}
