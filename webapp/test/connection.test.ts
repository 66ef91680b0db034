import { describe, expect, it } from "vitest";

import { closeAction, describeState, shouldReconnect } from "../src/connection";

describe("close codes", () => {
  it("maps the server's codes to what the page does", () => {
    expect(closeAction(4401)).toEqual({ action: "stop", state: "signed-out" });
    expect(closeAction(4403)).toEqual({ action: "reauthorize" });
    expect(closeAction(4404)).toEqual({ action: "stop", state: "not-found" });
    expect(closeAction(4410)).toEqual({ action: "stop", state: "deleted" });
    for (const code of [1001, 1002, 1006, 4413, 4429, 4500]) {
      expect(closeAction(code).action).toBe("retry");
    }
  });

  it("lets y-websocket retry only transient failures", () => {
    expect(shouldReconnect(1006)).toBe(true);
    expect(shouldReconnect(4429)).toBe(true); // y-websocket alone would give up on 44xx
    expect(shouldReconnect(4500)).toBe(true);
    expect(shouldReconnect(4403)).toBe(false); // the page re-reads the role first
    expect(shouldReconnect(4410)).toBe(false);
  });

  it("describes every state", () => {
    expect(describeState({ kind: "connected", readOnly: true }).label).toBe("Read-only");
    expect(describeState({ kind: "connected", readOnly: false }).label).toBe("Connected");
    expect(describeState({ kind: "deleted" }).detail).toMatch(/deleted/);
    expect(describeState({ kind: "reconnecting", code: 4429, reason: "Busy." }).detail).toMatch(/^Busy\./);
    expect(describeState({ kind: "signed-out" }).tone).toBe("error");
  });
});
