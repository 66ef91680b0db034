#!/usr/bin/env node
// A real npm `y-websocket` client for the interop tests (tests/test_interop_node.py).
//
//   node client.mjs SERVER_URL ROOM TOKEN SPEC_JSON
//
// SERVER_URL is the rooms endpoint without the room (ws://host:port/<base>/api/collab-docs/rooms);
// the provider appends "/ROOM?token=TOKEN" itself. SPEC_JSON is an object with a "mode":
//
//   {"mode": "edit", "offline": [EDIT...], "edits": [EDIT...], "expect": ["marker", ...],
//    "delay_ms": 10}
//       Apply "offline" edits before connecting (so they are concurrent with everything),
//       connect, wait for sync, apply "edits" one by one (delay_ms apart), wait until the
//       text "source" contains every "expect" marker, close the socket cleanly (the close
//       handshake comes after every update we sent) and print {"text", "client_id"}.
//       EDIT: {"insert": "s", "at": "start" | "end"} or {"delete": "s"} (first occurrence).
//
//   {"mode": "awareness", "watcher_token": T2, "state": {...}, "update": {...}}
//       Two providers with separate docs and awareness, and no BroadcastChannel, so the
//       server is their only link: the "announcer" (TOKEN) sets `state` as its local
//       awareness state, the "watcher" (T2, local state {"watching": true}) waits to see
//       it and the announcer to see the watcher, then the announcer sets
//       `update` and the watcher waits for that, then the announcer disconnects and the
//       watcher waits for its state to go. Prints what each saw.
//
//   {"mode": "close"}
//       Connect and print {"close_code", "reason", "opened"} for the first close.
//
// Exactly one JSON line goes to stdout; diagnostics go to stderr (INTEROP_DEBUG=1 adds
// timings). Exit codes: 0 done, 1 crash, 2 bad arguments, 3 hard timeout (20 s, or
// INTEROP_TIMEOUT_MS), 4 the connection closed when it should not have.

import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'

const HARD_TIMEOUT_MS = Number(process.env.INTEROP_TIMEOUT_MS || 20000)

const fail = (code, message) => {
  process.stderr.write(`client.mjs: ${message}\n`)
  process.exit(code)
}

const [serverUrl, room, token, specJson] = process.argv.slice(2)
if (!serverUrl || !room || token === undefined || !specJson) {
  fail(2, 'usage: node client.mjs SERVER_URL ROOM TOKEN SPEC_JSON')
}
let spec
try {
  spec = JSON.parse(specJson)
} catch (err) {
  fail(2, `SPEC_JSON is not JSON: ${err.message}`)
}

const STARTED = Date.now()
let phase = 'starting'
setTimeout(() => fail(3, `timed out after ${HARD_TIMEOUT_MS} ms while ${phase}`), HARD_TIMEOUT_MS)

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const connect = (doc, tok, { connect = true } = {}) =>
  new WebsocketProvider(serverUrl, room, doc, {
    WebSocketPolyfill: WebSocket,
    params: tok ? { token: tok } : {},
    connect,
    disableBc: true, // no in-process shortcut between providers: only the server
    maxBackoffTime: 500
  })

// Resolve once check() is true, re-checking on every event of `emitters`.
const until = (what, check, emitters) =>
  new Promise((resolve) => {
    phase = `waiting for ${what}`
    if (process.env.INTEROP_DEBUG) process.stderr.write(`${Date.now() - STARTED} ms: ${phase}\n`)
    const poll = () => {
      if (check()) {
        for (const [target, name] of emitters) target.off(name, poll)
        resolve()
      }
    }
    for (const [target, name] of emitters) target.on(name, poll)
    poll()
  })

// A close we did not ask for is a failure in the edit and awareness modes.
const closeIsFatal = (provider, label) => {
  const onClose = (event) => {
    if (provider.shouldConnect) fail(4, `${label} was closed: ${event.code} ${event.reason}`)
  }
  provider.on('connection-close', onClose)
}

// Close the socket and wait for the server's answer: updates sent before are in the room.
const closeCleanly = (provider) =>
  new Promise((resolve) => {
    phase = 'closing'
    if (!provider.ws) return resolve()
    provider.ws.addEventListener('close', () => resolve())
    provider.destroy()
  })

const applyEdit = (text, edit) => {
  if (typeof edit.insert === 'string') {
    text.insert(edit.at === 'start' ? 0 : text.length, edit.insert)
  } else if (typeof edit.delete === 'string') {
    const index = text.toString().indexOf(edit.delete)
    if (index < 0) fail(2, `cannot delete ${JSON.stringify(edit.delete)}: not in the text`)
    text.delete(index, edit.delete.length)
  } else {
    fail(2, `unknown edit ${JSON.stringify(edit)}`)
  }
}

const output = (result) => {
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0))
}

const modeEdit = async () => {
  const doc = new Y.Doc()
  const text = doc.getText('source')
  for (const edit of spec.offline || []) applyEdit(text, edit)
  const provider = connect(doc, token, { connect: false })
  closeIsFatal(provider, 'the editor')
  provider.connect()
  await until('the first sync', () => provider.synced, [[provider, 'synced']])
  for (const edit of spec.edits || []) {
    applyEdit(text, edit)
    await sleep(spec.delay_ms ?? 10)
  }
  const expect = spec.expect || []
  await until(
    `markers ${JSON.stringify(expect)}`,
    () => expect.every((m) => text.toString().includes(m)),
    [[doc, 'update']]
  )
  await closeCleanly(provider)
  output({ text: text.toString(), client_id: doc.clientID })
}

const statesOf = (awareness) => Object.fromEntries(awareness.getStates())

const modeAwareness = async () => {
  const announcerDoc = new Y.Doc()
  const watcherDoc = new Y.Doc()
  const announcer = connect(announcerDoc, token, { connect: false })
  const watcher = connect(watcherDoc, spec.watcher_token, { connect: false })
  // A fresh Awareness holds {} at clock 0, and y-protocols ignores a clock-0 state of a
  // client it does not know yet: without a state of its own (clock 1) the watcher would
  // only become visible to the announcer at its 15 s renewal.
  watcher.awareness.setLocalState({ watching: true })
  watcher.connect()
  closeIsFatal(announcer, 'the announcer')
  closeIsFatal(watcher, 'the watcher')
  const id = announcerDoc.clientID
  const seen = () => watcher.awareness.getStates().get(id)
  const has = (state, fields) =>
    state !== undefined && Object.keys(fields).every(
      (k) => k === 'user' || JSON.stringify(state[k]) === JSON.stringify(fields[k]))

  await until('the watcher to sync', () => watcher.synced, [[watcher, 'synced']])
  announcer.awareness.setLocalState(spec.state)
  announcer.connect()
  await until('the announcer state at the watcher', () => has(seen(), spec.state),
    [[watcher.awareness, 'change']])
  const first = seen()
  await until('the watcher state at the announcer',
    () => announcer.awareness.getStates().has(watcherDoc.clientID),
    [[announcer.awareness, 'change']])
  const announcerView = statesOf(announcer.awareness)

  announcer.awareness.setLocalState(spec.update)
  await until('the updated announcer state at the watcher', () => has(seen(), spec.update),
    [[watcher.awareness, 'change']])
  const updated = seen()

  await closeCleanly(announcer)
  await until('the announcer to leave', () => seen() === undefined,
    [[watcher.awareness, 'change']])
  const afterLeave = statesOf(watcher.awareness)
  await closeCleanly(watcher)
  output({
    announcer_id: id,
    watcher_id: watcherDoc.clientID,
    first,
    updated,
    announcer_view: announcerView,
    after_leave: afterLeave
  })
}

const modeClose = async () => {
  const provider = connect(new Y.Doc(), token, { connect: false })
  let opened = false
  provider.on('status', ({ status }) => { if (status === 'connected') opened = true })
  phase = 'waiting for the server to close the socket'
  provider.on('connection-close', (event) => {
    provider.destroy() // no reconnect
    output({ close_code: event.code, reason: event.reason, opened })
  })
  provider.connect()
}

const modes = { edit: modeEdit, awareness: modeAwareness, close: modeClose }
const run = modes[spec.mode]
if (!run) fail(2, `unknown mode ${JSON.stringify(spec.mode)}`)
run().catch((err) => fail(1, err && err.stack ? err.stack : String(err)))
