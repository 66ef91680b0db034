import { describe, expect, it, vi } from "vitest";

import { ApiClient, ApiError, errorFrom, grantableRoles, principalPath } from "../src/api";

function reply(status: number, body: unknown, contentType = "application/json"): Response {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return new Response(status === 204 ? null : text, { status, headers: { "Content-Type": contentType } });
}

describe("ApiClient", () => {
  it("sends the token as an Authorization header, never in the URL", async () => {
    const fetch = vi.fn(async () => reply(200, { documents: [] }));
    const api = new ApiClient({ baseUrl: "/user/alice", auth: { kind: "token", token: "cd_secret" }, fetch });
    await api.listDocuments();
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/user/alice/api/collab-docs/documents");
    expect(url).not.toContain("cd_secret");
    expect((init.headers as Record<string, string>).Authorization).toBe("token cd_secret");
    expect(init.credentials).toBe("same-origin");
  });

  it("echoes the _xsrf cookie when signed in by Jupyter's cookie", async () => {
    const fetch = vi.fn(async () => reply(201, { id: "1", name: "n", type: "file" }));
    const api = new ApiClient({
      baseUrl: "/",
      auth: { kind: "cookie" },
      fetch,
      cookies: () => "other=1; _xsrf=2%7Cabc%7C123; x=y",
    });
    await api.createDocument("n", "file");
    const [, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    const headers = init.headers as Record<string, string>;
    expect(headers["X-XSRFToken"]).toBe("2|abc|123");
    expect(headers.Authorization).toBeUndefined();
    expect(JSON.parse(init.body as string)).toEqual({ name: "n", type: "file" });
  });

  it("turns {message} error bodies into ApiError", async () => {
    const api = new ApiClient({ baseUrl: "/", auth: { kind: "cookie" }, fetch: async () => reply(403, { message: "editors may not grant owner" }) });
    await expect(api.setShare("d", "user:bob", "owner")).rejects.toEqual(new ApiError(403, "editors may not grant owner"));
  });

  it("falls back to a readable message for non-JSON errors and network failures", async () => {
    expect((await errorFrom(reply(502, "<html>bad gateway</html>", "text/html"))).message).toContain("502");
    expect((await errorFrom(reply(404, "nope", "text/plain"))).message).toMatch(/not found/i);
    const offline = new ApiClient({ baseUrl: "/", auth: { kind: "cookie" }, fetch: async () => { throw new TypeError("Failed to fetch"); } });
    const error = (await offline.me().catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(0);
  });

  it("reports a lost sign-in (401) except on the sign-in probe", async () => {
    const onUnauthenticated = vi.fn();
    const api = new ApiClient({ baseUrl: "/", auth: { kind: "token", token: "t" }, fetch: async () => reply(401, { message: "not authenticated" }), onUnauthenticated });
    await expect(api.me(true)).rejects.toBeInstanceOf(ApiError);
    expect(onUnauthenticated).not.toHaveBeenCalled();
    await expect(api.listDocuments()).rejects.toMatchObject({ status: 401, unauthenticated: true });
    expect(onUnauthenticated).toHaveBeenCalledTimes(1);
  });

  it("handles 204 and sends share links as a header", async () => {
    const fetch = vi.fn(async () => reply(204, ""));
    const api = new ApiClient({ baseUrl: "/", auth: { kind: "token", token: "t" }, fetch });
    await expect(api.removeShare("doc 1", "group:a b", "cdl_x")).resolves.toBeUndefined();
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/collab-docs/documents/doc%201/shares/group:a%20b");
    expect((init.headers as Record<string, string>)["X-Collab-Docs-Link"]).toBe("cdl_x");
    expect(init.method).toBe("DELETE");
  });
});

describe("roles", () => {
  it("knows who may grant what (docs/sharing.md)", () => {
    expect(grantableRoles("owner", "user:bob")).toEqual(["viewer", "commenter", "editor", "owner"]);
    expect(grantableRoles("owner", "link")).toEqual(["viewer", "commenter", "editor"]);
    expect(grantableRoles("editor", "user:bob")).toEqual(["viewer", "commenter", "editor"]);
    expect(grantableRoles("viewer", "user:bob")).toEqual([]);
    expect(principalPath("user:a@b.c")).toBe("user:a%40b.c");
  });
});

describe("principal completion", () => {
  it("asks GET principals?q= with the prefix encoded, and keeps well-formed entries", async () => {
    const fetch = vi.fn(async () =>
      reply(200, {
        principals: [
          { principal: "user:carol", display_name: "Carol Danvers" },
          { principal: "group:ca&ts" },
          { principal: 42 },
          { principal: "nobody" },
          null,
        ],
        directory: true,
      }),
    );
    const api = new ApiClient({ baseUrl: "/", auth: { kind: "cookie" }, fetch });
    const answer = await api.completePrincipals("ca &");
    const [url] = fetch.mock.calls[0] as unknown as [string];
    expect(url).toBe("/api/collab-docs/principals?q=ca%20%26");
    expect(answer).toEqual({
      principals: [
        { principal: "user:carol", display_name: "Carol Danvers" },
        { principal: "group:ca&ts", display_name: "" },
      ],
      directory: true,
    });
  });
});
