import { describe, expect, it } from "vitest";

import { authHeaders, normalizeToken, readCookie, roomParams, Session, TOKEN_KEY } from "../src/session";
import { parseRoute } from "../src/route";
import { roomsUrl } from "../src/config";
import { shareLinkUrl } from "../src/views/share";

class MemoryStorage {
  data = new Map<string, string>();
  getItem(key: string) { return this.data.get(key) ?? null; }
  setItem(key: string, value: string) { this.data.set(key, value); }
  removeItem(key: string) { this.data.delete(key); }
}

describe("session", () => {
  it("keeps the token in (session) storage and forgets it on sign-out", () => {
    const storage = new MemoryStorage();
    const session = new Session(storage);
    expect(session.token).toBeNull();
    session.saveToken("cd_abc");
    expect(storage.getItem(TOKEN_KEY)).toBe("cd_abc");
    expect(new Session(storage).token).toBe("cd_abc");
    session.clear();
    expect(session.token).toBeNull();
  });

  it("keeps share links per document", () => {
    const session = new Session(new MemoryStorage());
    session.saveLink("doc1", "cdl_1");
    expect(session.linkFor("doc1")).toBe("cdl_1");
    expect(session.linkFor("doc2")).toBeNull();
  });

  it("accepts a token pasted with its header", () => {
    expect(normalizeToken("  cd_abc \n")).toBe("cd_abc");
    expect(normalizeToken("token cd_abc")).toBe("cd_abc");
    expect(normalizeToken("Authorization: token cd_abc")).toBe("cd_abc");
  });

  it("puts the token only in headers and the room's query", () => {
    expect(authHeaders({ kind: "token", token: "t" }, "_xsrf=x")).toEqual({ Authorization: "token t" });
    expect(authHeaders({ kind: "cookie" }, "a=1; _xsrf=x%7Cy")).toEqual({ "X-XSRFToken": "x|y" });
    expect(authHeaders({ kind: "cookie" }, "")).toEqual({});
    expect(roomParams({ kind: "token", token: "t" }, null)).toEqual({ token: "t" });
    expect(roomParams({ kind: "cookie" }, "cdl")).toEqual({ link: "cdl" });
    expect(readCookie("a=1; b = 2", "b")).toBe("2");
    expect(readCookie("a=1", "_xsrf")).toBeNull();
  });
});

describe("addresses", () => {
  it("routes", () => {
    expect(parseRoute("")).toEqual({ page: "list" });
    expect(parseRoute("#/")).toEqual({ page: "list" });
    expect(parseRoute("#/d/abc")).toEqual({ page: "document", id: "abc", link: null });
    expect(parseRoute("#/d/abc?link=cdl_x")).toEqual({ page: "document", id: "abc", link: "cdl_x" });
  });

  it("builds room and share-link URLs under any base_url", () => {
    expect(roomsUrl("/user/a%40b/", { protocol: "https:", host: "hub.example" })).toBe(
      "wss://hub.example/user/a%40b/api/collab-docs/rooms",
    );
    expect(roomsUrl("/", { protocol: "http:", host: "127.0.0.1:8888" })).toBe("ws://127.0.0.1:8888/api/collab-docs/rooms");
    expect(shareLinkUrl("https://h", "/collab-docs/", "d1", "cdl_a+b")).toBe("https://h/collab-docs/#/d/d1?link=cdl_a%2Bb");
    expect(parseRoute("#/d/d1?link=cdl_a%2Bb").page === "document" && parseRoute("#/d/d1?link=cdl_a%2Bb")).toMatchObject({ link: "cdl_a+b" });
  });
});
