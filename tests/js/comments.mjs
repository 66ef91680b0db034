#!/usr/bin/env node
// The npm y-websocket + yjs side of docs/comments.md (tests/test_comments_interop_node.py).
//
//   node comments.mjs ROOMS_URL ROOM TOKEN SPEC_JSON      SPEC: {"from": 6, "to": 11}
//
// Joins the room with ?comments=1 and a handler for frame type 100, starts two threads over
// REST on the text's [from, to): one with relative positions made by Yjs
// (createRelativePositionFromTypeIndex + encodeRelativePosition, base64), one with
// index/length (the server makes the positions), waits for both thread.created events on
// its socket, and resolves the anchor the server made with Yjs. Prints one JSON line.

import WebSocket from 'ws'
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import { WebsocketProvider } from 'y-websocket'

const fail = (code, message) => {
  process.stderr.write(`comments.mjs: ${message}\n`)
  process.exit(code)
}
setTimeout(() => fail(3, 'timed out after 20 s'), 20000)

const [roomsUrl, room, token, specJson] = process.argv.slice(2)
if (!roomsUrl || !room || !token || !specJson) fail(2, 'usage: node comments.mjs ROOMS_URL ROOM TOKEN SPEC')
const spec = JSON.parse(specJson)
const api = roomsUrl.replace(/^ws/, 'http').replace(/\/rooms$/, '')

const doc = new Y.Doc()
const provider = new WebsocketProvider(roomsUrl, room, doc, {
  WebSocketPolyfill: WebSocket,
  params: { token, comments: '1' },
  disableBc: true
})
const events = []
provider.messageHandlers[100] = (encoder, decoder) => {
  events.push(JSON.parse(decoding.readVarString(decoder)))
}
await new Promise((resolve) => provider.on('sync', (synced) => synced && resolve()))

const text = doc.getText('source')
const b64 = (rp) => Buffer.from(Y.encodeRelativePosition(rp)).toString('base64')
const post = async (anchor, body) => {
  const response = await fetch(`${api}/documents/${room}/threads`, {
    method: 'POST',
    headers: { Authorization: `token ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ anchor, body })
  })
  if (response.status !== 201) fail(1, `POST threads: ${response.status} ${await response.text()}`)
  return response.json()
}
const byYjs = await post({
  kind: 'text',
  start: b64(Y.createRelativePositionFromTypeIndex(text, spec.from)),
  end: b64(Y.createRelativePositionFromTypeIndex(text, spec.to, -1))
}, 'made by yjs')
const byServer = await post({ kind: 'text', index: spec.from, length: spec.to - spec.from }, 'made by the server')
while (events.length < 2) await new Promise((resolve) => setTimeout(resolve, 20))

const resolve = (encoded) => {
  const rp = Y.decodeRelativePosition(Buffer.from(encoded, 'base64'))
  return Y.createAbsolutePositionFromRelativePosition(rp, doc).index
}
const resolved = [resolve(byServer.anchor.start), resolve(byServer.anchor.end)]
provider.destroy()
process.stdout.write(JSON.stringify({ byYjs, byServer, events, resolved, text: text.toString() }) + '\n')
process.exit(0)
