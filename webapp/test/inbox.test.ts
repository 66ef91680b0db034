import { describe, expect, it } from "vitest";

import { inboxButtonText } from "../src/views/inbox";

describe("the inbox button", () => {
  it("shows its label alone while nothing is unread", () => {
    expect(inboxButtonText(0)).toEqual({ label: "Inbox", badge: "", name: "Inbox, 0 unread" });
  });

  it("shows the unread count as a badge apart from the label, and says it in words", () => {
    expect(inboxButtonText(3)).toEqual({ label: "Inbox", badge: "3", name: "Inbox, 3 unread" });
    expect(inboxButtonText(120).badge).toBe("120");
  });
});
