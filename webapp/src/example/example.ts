// A minimal Yjs application on a jupyter-collab-docs server: the plain `y-websocket`
// client and a <textarea> bound to a text document's shared Y.Text "source".
//
//   npm install yjs y-websocket
//
// The room URL is {base_url}api/collab-docs/rooms/{document id}; the API token goes in
// ?token= (the only place a browser can put it on a WebSocket).

import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";

const form = document.querySelector<HTMLFormElement>("#connect")!;
const tokenInput = document.querySelector<HTMLInputElement>("#token")!;
const docInput = document.querySelector<HTMLInputElement>("#doc")!;
const textarea = document.querySelector<HTMLTextAreaElement>("#text")!;
const status = document.querySelector<HTMLElement>("#status")!;

// This page is served at {base_url}collab-docs/example.html.
const baseUrl = location.pathname.replace(/collab-docs\/[^/]*$/, "");
const roomsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${baseUrl}api/collab-docs/rooms`;

let provider: WebsocketProvider | null = null;

form.addEventListener("submit", (event) => {
  event.preventDefault();
  provider?.destroy();
  const ydoc = new Y.Doc();
  const text = ydoc.getText("source"); // a "file" document's text
  provider = new WebsocketProvider(roomsUrl, docInput.value.trim(), ydoc, {
    params: { token: tokenInput.value.trim() },
  });

  provider.on("status", ({ status: s }) => (status.textContent = s));
  provider.on("sync", (synced) => {
    if (synced) status.textContent = "connected and synced";
  });
  // 4401 bad token, 4404 no such document (or no access), 4410 deleted: y-websocket
  // stops on 44xx codes by itself; say why.
  provider.on("closed", ({ code, reason }) => (status.textContent = `closed: ${code} ${reason}`));

  // Remote changes -> textarea (keeping the caret where it was, relative to the text).
  text.observe((event) => {
    if (event.transaction.local) return;
    const start = Y.createRelativePositionFromTypeIndex(text, textarea.selectionStart);
    const end = Y.createRelativePositionFromTypeIndex(text, textarea.selectionEnd);
    textarea.value = text.toString();
    const a = Y.createAbsolutePositionFromRelativePosition(start, ydoc);
    const b = Y.createAbsolutePositionFromRelativePosition(end, ydoc);
    if (a && b && document.activeElement === textarea) textarea.setSelectionRange(a.index, b.index);
  });

  // Local typing -> Y.Text, as the smallest change between the old and the new value.
  textarea.value = text.toString();
  textarea.oninput = () => {
    const before = text.toString();
    const after = textarea.value;
    let prefix = 0;
    while (prefix < before.length && prefix < after.length && before[prefix] === after[prefix]) prefix++;
    let suffix = 0;
    while (
      suffix < before.length - prefix &&
      suffix < after.length - prefix &&
      before[before.length - 1 - suffix] === after[after.length - 1 - suffix]
    )
      suffix++;
    ydoc.transact(() => {
      text.delete(prefix, before.length - prefix - suffix);
      text.insert(prefix, after.slice(prefix, after.length - suffix));
    });
  };
});
