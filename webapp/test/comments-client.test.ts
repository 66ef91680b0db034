import { describe, expect, it, vi } from "vitest";

import { ApiClient } from "../src/api";
import { CommentsClient } from "../src/comments/client";

function reply(status: number, body: unknown): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

describe("CommentsClient", () => {
  it("calls the thread endpoints with the share link as a header", async () => {
    const fetch = vi.fn(async (_url: string, init?: RequestInit) => (init?.method === "DELETE" ? reply(204, null) : reply(200, { threads: [] })));
    const api = new ApiClient({ baseUrl: "/", auth: { kind: "token", token: "t" }, fetch });
    const client = new CommentsClient(api, "doc/1", "LINK");
    await client.list();
    await client.reply("abc", "hi");
    await client.setResolved("abc", true);
    await client.edit("abc", "c1", "again");
    expect(await client.removeComment("abc", "c1")).toBeUndefined();
    const calls = fetch.mock.calls.map(([url, init]) => [init?.method, url, init?.body ?? null]);
    expect(calls).toEqual([
      ["GET", "/api/collab-docs/documents/doc%2F1/threads", null],
      ["POST", "/api/collab-docs/documents/doc%2F1/threads/abc/comments", '{"body":"hi"}'],
      ["PATCH", "/api/collab-docs/documents/doc%2F1/threads/abc", '{"resolved":true}'],
      ["PATCH", "/api/collab-docs/documents/doc%2F1/threads/abc/comments/c1", '{"body":"again"}'],
      ["DELETE", "/api/collab-docs/documents/doc%2F1/threads/abc/comments/c1", null],
    ]);
    for (const [, init] of fetch.mock.calls) expect((init?.headers as Record<string, string>)["X-Collab-Docs-Link"]).toBe("LINK");
  });

  it("shows the server's refusal", async () => {
    const api = new ApiClient({ baseUrl: "/", auth: { kind: "cookie" }, fetch: async () => reply(403, { message: "viewers may not comment" }) });
    await expect(new CommentsClient(api, "d", null).create({ kind: "cell", cell_id: "c" }, "x")).rejects.toThrow("viewers may not comment");
  });
});
