'use strict'
/**
 * Trace replay: one writer sends the automerge-paper editing trace
 * (one Yjs transaction per trace transaction, i.e. one update message each)
 * as fast as the server accepts it, bounded by a window of in-flight updates.
 *
 * "Accepted" means: an observer in the same process has applied it.  We need a
 * counter that the writer and the observers compute identically even if the
 * server merges several updates into one message, so progress is
 *     (writer's clock in the observer's state vector) + (writer-made chars deleted)
 * which is exactly what the writer's own document says after each transaction.
 * The precomputed updates use a fixed clientID so observers know whose progress to count
 * (server-side edits, e.g. jupyter's "state" map, are ignored).
 */
const fs = require('fs')
const zlib = require('zlib')
const sync = require('y-protocols/sync')
const { nowUs, Y } = require('./protocol')

const WRITER_ID = 0x7eadbee
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

/** Returns {txns: [[pos, del, ins]...], endContent} for the first `limit` transactions. */
function loadTrace (path, limit) {
  const data = JSON.parse(zlib.gunzipSync(fs.readFileSync(path)).toString('utf8'))
  if (data.startContent) throw new Error('trace replay assumes an empty startContent')
  const txns = []
  for (const t of data.txns) {
    for (const p of t.patches) txns.push(p) // this trace has one patch per txn
    if (limit && txns.length >= limit) break
  }
  return { txns, endContent: limit ? null : data.endContent }
}

/** Install the progress counter on a client (writer or observer). */
function trackProgress (c) {
  c.progress = 0
  c.lastChangeUs = 0
  let deleted = 0
  c.client.doc.on('afterTransaction', tr => {
    const items = tr.deleteSet.clients.get(WRITER_ID)
    if (items) for (const it of items) deleted += it.len
    const p = (tr.afterState.get(WRITER_ID) || 0) + deleted
    if (p !== c.progress) {
      c.progress = p
      c.lastChangeUs = nowUs()
      if (c.onProgress) c.onProgress()
    }
  })
}

/**
 * Apply the trace to a copy of the writer's document before the timed phase and
 * keep every update and the progress after it: during the replay the writer then
 * only sends bytes, so the generator's single core is left to the observers.
 * The bytes are exactly what a live Yjs writer with WRITER_ID would send.
 */
function precompute (writerDoc, txns) {
  const doc = new Y.Doc()
  doc.clientID = WRITER_ID
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(writerDoc))
  const text = doc.getText('source')
  const updates = []
  doc.on('update', u => updates.push(u))
  const targets = new Float64Array(txns.length)
  let deleted = 0
  txns.forEach(([pos, del, ins], i) => {
    const before = updates.length
    doc.transact(() => {
      if (del) text.delete(pos, del)
      if (ins) text.insert(pos, ins)
    })
    if (updates.length === before) updates.push(null) // no-op edit: nothing to send
    deleted += del
    targets[i] = Y.getState(doc.store, WRITER_ID) + deleted
  })
  return { doc, updates, targets }
}

async function replayTrace (clients, { tracePath, limit, window, timeoutMs }, load) {
  const writer = clients.find(c => c.spec.role === 'writer')
  const acker = clients.find(c => c.spec.role === 'observer')
  if (!writer || !acker) throw new Error('replay needs the writer and one observer in the same worker')
  const { txns, endContent } = load(tracePath, limit)
  const t = nowUs()
  const { doc: finalDoc, updates, targets } = precompute(writer.client.doc, txns)
  const precomputeS = (nowUs() - t) / 1e6
  let sent = 0
  let acked = 0
  let wake = null
  acker.onProgress = () => {
    while (acked < sent && acker.progress >= targets[acked]) acked++
    if (wake) { const w = wake; wake = null; w() }
  }
  const start = nowUs()
  const deadline = start + timeoutMs * 1000
  let timedOut = false
  for (let i = 0; i < txns.length; i++) {
    while (i - acked >= window) {
      await new Promise(resolve => { wake = resolve; setTimeout(resolve, 1000) })
      if (nowUs() > deadline) { timedOut = true; break }
    }
    if (timedOut) break
    const update = updates[i]
    if (update) writer.client._sendSync(enc => sync.writeUpdate(enc, update))
    sent = i + 1
    if ((i & 1023) === 0) await sleep(0) // let the socket flush even when acks are fast
  }
  while (acked < sent && nowUs() < deadline) await new Promise(resolve => { wake = resolve; setTimeout(resolve, 100) })
  // the writer's own document gets what it sent (origin = client: not re-sent);
  // after a timeout that is only a prefix of the trace
  const sentUpdates = sent === updates.length ? [Y.encodeStateAsUpdate(finalDoc)] : updates.slice(0, sent).filter(Boolean)
  if (sentUpdates.length) Y.applyUpdate(writer.client.doc, Y.mergeUpdates(sentUpdates), writer.client)
  const final = writer.client.text.toString()
  return {
    precompute_s: precomputeS,
    start_us: start,
    sent,
    total: txns.length,
    acked,
    timed_out: timedOut || acked < sent,
    writer_done_s: (nowUs() - start) / 1e6,
    target_progress: targets[sent - 1] || 0,
    final_len: final.length,
    matches_end_content: endContent === null || sent < txns.length ? null : final === endContent
  }
}

module.exports = { loadTrace, trackProgress, replayTrace, WRITER_ID }
