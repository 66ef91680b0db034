import { describe, expect, it } from "vitest";
import * as Y from "yjs";

import type { Me } from "../src/api";
import type { CommentsClient } from "../src/comments/client";
import type { Thread } from "../src/comments/model";
import { CommentsStore } from "../src/comments/store";

const me: Me = { username: "alice", name: "alice", display_name: "Alice", initials: "A", color: "#000", is_admin: false };

function thread(id: string): Thread {
  return {
    id,
    document_id: "d",
    anchor: { kind: "cell", cell_id: "c" },
    quote: "",
    author: "bob",
    created: "",
    resolved: false,
    resolved_by: null,
    resolved_at: null,
    position: { attached: true, start: null, end: null, cell_index: 0 },
    comments: [],
  };
}

describe("CommentsStore", () => {
  it("keeps a thread whose event arrived while the list was read", async () => {
    let answer: (threads: Thread[]) => void = () => undefined;
    const client = { list: () => new Promise<Thread[]>((resolve) => (answer = resolve)) } as unknown as CommentsClient;
    const store = new CommentsStore(client, new Y.Doc(), me, "editor", null);
    const reading = store.refresh();
    // Created after the server read the list, announced before the list arrived.
    store.apply({ event: "thread.created", thread_id: "new", thread: thread("new") });
    answer([thread("old")]);
    await reading;
    expect(store.threads.map((t) => t.id)).toEqual(["old", "new"]);
    store.destroy();
  });

  it("names people by their display name when they are in the document", () => {
    const doc = new Y.Doc();
    const states = new Map<number, unknown>([[7, { user: { name: "bob", display_name: "<b>Bob</b>" } }]]);
    const awareness = { getStates: () => states } as unknown as ConstructorParameters<typeof CommentsStore>[4];
    const store = new CommentsStore({} as CommentsClient, doc, me, "viewer", awareness);
    expect([store.nameOf("alice"), store.nameOf("bob"), store.nameOf("carol")]).toEqual(["Alice", "<b>Bob</b>", "carol"]);
    store.destroy();
  });
});
