/**
 * Re-reads something every few seconds while the page is visible: the server has no
 * push for renames or new shares, and a small GET while someone is looking is cheap.
 * Hidden tabs do not poll; coming back re-reads at once. Runs never overlap, and
 * failures back off (doubling, up to `maxDelayMs`).
 */

export interface Visibility {
  visible(): boolean;
  onChange(listener: () => void): () => void;
}

export interface PollOptions {
  intervalMs: number;
  maxDelayMs?: number;
  visibility?: Visibility;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/** The page's visibility (document.visibilityState and focus). */
export function pageVisibility(): Visibility {
  return {
    visible: () => document.visibilityState === "visible",
    onChange(listener) {
      document.addEventListener("visibilitychange", listener);
      window.addEventListener("focus", listener);
      return () => {
        document.removeEventListener("visibilitychange", listener);
        window.removeEventListener("focus", listener);
      };
    },
  };
}

export class VisiblePoller {
  private timer: unknown = null;
  private running = false;
  private stopped = false;
  private failures = 0;
  private readonly unsubscribe: () => void;
  private readonly visibility: Visibility;
  private readonly setTimer: (callback: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly options: PollOptions,
  ) {
    this.visibility = options.visibility ?? pageVisibility();
    this.setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms));
    this.clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
    this.unsubscribe = this.visibility.onChange(() => {
      if (this.visibility.visible()) void this.tick();
    });
    this.schedule();
  }

  /** The delay before the next run: the interval, doubled per consecutive failure. */
  get delay(): number {
    const max = this.options.maxDelayMs ?? this.options.intervalMs * 8;
    return Math.min(max, this.options.intervalMs * 2 ** this.failures);
  }

  private schedule(): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = this.stopped ? null : this.setTimer(() => void this.tick(), this.delay);
  }

  /** Runs now (unless hidden, stopped or already running), then schedules the next run. */
  async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    if (!this.visibility.visible()) {
      this.schedule(); // hidden: nothing now; visibility coming back runs at once
      return;
    }
    this.running = true;
    try {
      await this.run();
      this.failures = 0;
    } catch {
      this.failures += 1;
    } finally {
      this.running = false;
    }
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    this.unsubscribe();
  }
}
