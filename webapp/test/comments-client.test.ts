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

describe("CommentsClient.create", () => {
  const lacking = { message: "the anchor names positions that are not in the document, or deleted text" };

  it("posts again while the server lacks the edits the anchor names", async () => {
    const answers = [reply(400, lacking), reply(400, lacking), reply(201, { id: "t" })];
    const fetch = vi.fn(async () => answers.shift()!);
    const api = new ApiClient({ baseUrl: "/", auth: { kind: "cookie" }, fetch });
    const thread = await new CommentsClient(api, "d", null, 1).create({ kind: "text", start: "AA==", end: "AA==" }, "x");
    expect(thread.id).toBe("t");
    expect(fetch).toHaveBeenCalledTimes(3);
  });

  it("gives up after a few tries, and never retries other refusals", async () => {
    const always = vi.fn(async () => reply(400, lacking));
    const api = new ApiClient({ baseUrl: "/", auth: { kind: "cookie" }, fetch: always });
    await expect(new CommentsClient(api, "d", null, 1).create({ kind: "cell", cell_id: "c" }, "x")).rejects.toThrow("not in the document");
    expect(always).toHaveBeenCalledTimes(5);
    const empty = vi.fn(async () => reply(400, { message: "empty body" }));
    const other = new ApiClient({ baseUrl: "/", auth: { kind: "cookie" }, fetch: empty });
    await expect(new CommentsClient(other, "d", null, 1).create({ kind: "cell", cell_id: "c" }, " ")).rejects.toThrow("empty body");
    expect(empty).toHaveBeenCalledTimes(1);
  });
});
