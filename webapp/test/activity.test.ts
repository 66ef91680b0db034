import { describe, expect, it, vi } from "vitest";

import { ApiClient, type DocumentModel, type Me } from "../src/api";
import { activityQuery, canReadActivity } from "../src/views/activity";

const doc = (role: DocumentModel["role"]): DocumentModel => ({
  id: "d1",
  name: "n",
  type: "file",
  role,
  owner: "alice",
  created: "",
  modified: "",
});
const me = (is_admin: boolean): Me => ({ username: "u", name: "u", display_name: "U", initials: "U", color: "#000", is_admin });

describe("the activity feed", () => {
  it("is offered to owners and administrators only", () => {
    expect(canReadActivity(doc("owner"), me(false))).toBe(true);
    expect(canReadActivity(doc("editor"), me(false))).toBe(false);
    expect(canReadActivity(doc("viewer"), me(true))).toBe(true);
  });

  it("asks for the chosen filters, `since` relative to now", () => {
    const now = new Date("2026-11-26T12:00:00Z");
    expect(activityQuery("", "", "", now)).toEqual({ limit: 200 });
    expect(activityQuery("bob", "sharing", "hour", now)).toEqual({
      limit: 200,
      actor: "bob",
      kind: "sharing",
      since: "2026-11-26T11:00:00.000Z",
    });
  });

  it("sends them as query parameters, escaped, with the share link as a header", async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify({ events: [], truncated: false }), { status: 200 }));
    const api = new ApiClient({ baseUrl: "/", auth: { kind: "token", token: "t" }, fetch });
    const page = await api.activity("d1", { actor: "a&b", kind: "sharing,versions", limit: 5 }, "L");
    expect(page).toEqual({ events: [], truncated: false });
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/collab-docs/documents/d1/activity?actor=a%26b&kind=sharing%2Cversions&limit=5");
    expect((init.headers as Record<string, string>)["X-Collab-Docs-Link"]).toBe("L");
  });
});
