// Rotation by age (`a`): rotates each `current` whose first line is older
// than its directory's age, and keeps one timer armed for the next one due,
// only while there is one (no wakeups while every `current` is empty).
import type { LogDir } from './logdir';

/** setTimeout's longest delay; a later deadline is reached in steps. */
const MAX_DELAY = 2 ** 31 - 1;

export class AgeTimer {
  private timer: NodeJS.Timeout | undefined;
  private armedFor: number | undefined;

  /** wake: makes the main loop come round (and call check) when the timer fires. */
  constructor(private readonly dirs: readonly LogDir[], private readonly wake: () => void) {}

  /**
   * Rotates what is due and arms the timer for what is due next, leaving
   * out the directories held (a long line half written there): the next
   * input calls again.
   */
  check(held: (d: LogDir) => boolean): void {
    const now = Date.now();
    for (const d of this.dirs) if (!held(d)) d.rotateIfOld(now);
    let next: number | undefined;
    for (const d of this.dirs) {
      if (held(d)) continue;
      const due = d.ageDeadline();
      if (due !== undefined && (next === undefined || due < next)) next = due;
    }
    if (next === this.armedFor) return;
    this.disarm();
    if (next === undefined) return;
    this.armedFor = next;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.armedFor = undefined;
      this.wake();
    }, Math.min(MAX_DELAY, Math.max(0, next - Date.now())));
  }

  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = undefined;
  }
}
