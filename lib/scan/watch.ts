// Watches the entries of the scanned directory (not the services inside it)
// and asks for a rescan shortly after one appears or disappears. Only a
// hint: svscan's periodic rescan stays the safety net, so a watcher that
// fails or never gets events changes nothing but the delay.
import chokidar from 'chokidar';

export interface EntryWatch {
  close(): void;
}

/**
 * Calls onChange once, delayMs after the first add/remove event of a burst
 * (so a service directory being filled by `cp -r` is usually complete when
 * it is scanned). onError gets the watcher's error; the watch then stops.
 */
export function watchEntries(dir: string, delayMs: number, onChange: () => void, onError: (err: unknown) => void): EntryWatch {
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const fire = (): void => {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      onChange();
    }, delayMs);
  };
  const watcher = chokidar.watch(dir, {
    depth: 0,
    ignoreInitial: true,
    followSymlinks: false,
    atomic: false,
    persistent: true,
  });
  const close = (): void => {
    if (closed) return;
    closed = true;
    if (timer) clearTimeout(timer);
    watcher.close().catch(() => undefined);
  };
  watcher
    .on('add', fire)
    .on('addDir', fire)
    .on('unlink', fire)
    .on('unlinkDir', fire)
    .on('error', (err) => {
      onError(err);
      close();
    });
  return { close };
}
