import { describe, expect, it } from "vitest";

import { VisiblePoller, type Visibility } from "../src/poll";

function harness(visible = true) {
  const state = { visible, listeners: [] as (() => void)[], timers: [] as { callback: () => void; ms: number; cleared: boolean }[] };
  const visibility: Visibility = {
    visible: () => state.visible,
    onChange(listener) {
      state.listeners.push(listener);
      return () => state.listeners.splice(state.listeners.indexOf(listener), 1);
    },
  };
  const setTimer = (callback: () => void, ms: number) => {
    const timer = { callback, ms, cleared: false };
    state.timers.push(timer);
    return timer;
  };
  const clearTimer = (timer: unknown) => {
    (timer as { cleared: boolean }).cleared = true;
  };
  const pending = () => state.timers.filter((t) => !t.cleared);
  return { state, visibility, setTimer, clearTimer, pending };
}

describe("VisiblePoller", () => {
  it("runs every interval while visible, with one timer at a time", async () => {
    const h = harness();
    let runs = 0;
    const poller = new VisiblePoller(async () => void runs++, { intervalMs: 5000, ...h });
    expect(h.pending()).toHaveLength(1);
    expect(h.pending()[0]!.ms).toBe(5000);
    await poller.tick();
    expect(runs).toBe(1);
    expect(h.pending()).toHaveLength(1);
    poller.stop();
    expect(h.pending()).toHaveLength(0);
    expect(h.state.listeners).toHaveLength(0);
  });

  it("does not run while hidden, and runs at once when visible again", async () => {
    const h = harness(false);
    let runs = 0;
    const poller = new VisiblePoller(async () => void runs++, { intervalMs: 5000, ...h });
    await poller.tick();
    expect(runs).toBe(0);
    h.state.visible = true;
    h.state.listeners.forEach((listener) => listener());
    await Promise.resolve();
    expect(runs).toBe(1);
    poller.stop();
  });

  it("backs off on failures, up to the maximum, and recovers", async () => {
    const h = harness();
    let fail = true;
    const poller = new VisiblePoller(
      async () => {
        if (fail) throw new Error("down");
      },
      { intervalMs: 1000, maxDelayMs: 4000, ...h },
    );
    await poller.tick();
    expect(poller.delay).toBe(2000);
    await poller.tick();
    await poller.tick();
    expect(poller.delay).toBe(4000);
    fail = false;
    await poller.tick();
    expect(poller.delay).toBe(1000);
    poller.stop();
  });

  it("never overlaps runs", async () => {
    const h = harness();
    let release: () => void = () => undefined;
    let runs = 0;
    const poller = new VisiblePoller(
      () => {
        runs++;
        return new Promise<void>((resolve) => (release = resolve));
      },
      { intervalMs: 1000, ...h },
    );
    const first = poller.tick();
    await poller.tick();
    expect(runs).toBe(1);
    release();
    await first;
    poller.stop();
  });
});
