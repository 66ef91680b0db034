'use strict'
/**
 * Helper of the harness for servers with a store (benchmarks/servers.py):
 *
 *   node persist-check.js write ROOM.json PROTOCOL TOKEN    a client inserts TOKEN into Y.Text "source"
 *   node persist-check.js seed ROOM.json PROTOCOL NOTEBOOK  a client uploads an .ipynb (jupyter_ydoc layout)
 *   node persist-check.js read ROOM.json PROTOCOL TOKEN     a client reads the room back
 *
 * write and seed return once a *second* client has synced the room and sees the
 * content, so the server holds it in memory; what reaches the store is what the
 * harness checks with read after restarting the server.  read reports whether the
 * token was in the server's first full sync (SyncStep2) and whether it arrived at
 * all within the timeout (a server may answer before its store has loaded).
 * Prints one JSON object; exit code 0 if the check passed.
 */
const fs = require('fs')
const { BenchClient, nowUs } = require('./protocol')
const { fillNotebookFromFile } = require('./notebook')

const [mode, roomPath, protocol, arg] = process.argv.slice(2)
const room = JSON.parse(fs.readFileSync(roomPath, 'utf8'))
const TIMEOUT_MS = 10000

const client = () => new BenchClient({ url: room.url, docName: room.docName, protocol })

/** Resolves when cond() holds (checked on every change of the client's document), rejects at the timeout. */
function until (c, cond, what) {
  return new Promise((resolve, reject) => {
    if (cond()) return resolve()
    const timer = setTimeout(() => { c.doc.off('update', check); reject(new Error(`timeout: ${what}`)) }, TIMEOUT_MS)
    const check = () => { if (cond()) { clearTimeout(timer); c.doc.off('update', check); resolve() } }
    c.doc.on('update', check)
  })
}

async function write () {
  const writer = client()
  await writer.connect(TIMEOUT_MS)
  writer.text.insert(0, arg)
  const reader = client()
  await reader.connect(TIMEOUT_MS)
  await until(reader, () => reader.text.toString().includes(arg), 'a second client sees the token')
  writer.close(); reader.close()
  return { ok: true }
}

async function seed () {
  const writer = client()
  await writer.connect(120000)
  fillNotebookFromFile(writer.doc, arg)
  const cells = writer.doc.getArray('cells').length
  const reader = client()
  await reader.connect(120000)
  await until(reader, () => reader.doc.getArray('cells').length === cells, 'a second client sees every cell')
  writer.close(); reader.close()
  return { ok: true, cells }
}

async function read () {
  const reader = client()
  const t0 = nowUs()
  await reader.connect(TIMEOUT_MS)
  const inFirstSync = reader.text.toString().includes(arg)
  let arrived = inFirstSync
  try {
    await until(reader, () => reader.text.toString().includes(arg), 'the token after the restart')
    arrived = true
  } catch (e) { /* reported below */ }
  reader.close()
  return { ok: arrived, in_first_sync: inFirstSync, ms: (nowUs() - t0) / 1000, text: reader.text.toString().slice(0, 200) }
}

const MODES = { write, seed, read }
MODES[mode]().then(
  out => { console.log(JSON.stringify(out)); process.exit(out.ok ? 0 : 1) },
  err => { console.log(JSON.stringify({ ok: false, error: String(err) })); process.exit(1) }
)
