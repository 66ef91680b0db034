'use strict'
/**
 * Worker process of the load generator: owns a slice of the clients and runs
 * the phases the coordinator (main.js) asks for over IPC.
 *
 * Several workers exist so that one busy event loop (e.g. applying a 5 MB
 * document) does not delay the timestamps of every other client; they all
 * share the generator's core, so the coordinator sums their CPU time.
 *
 * Latency is measured without a cross-process join: every keystroke of a
 * typist inserts one short token "<writer>.<seq>.<sendTimeUs>;" (base 36,
 * send time from CLOCK_MONOTONIC, which all processes on the host share).
 * Receivers parse the tokens out of the Y.Text delta when the remote update
 * is applied and record now - sendTime.  Typists always insert right after
 * their own previous token, so tokens are never split and the document is a
 * plain concatenation of tokens.
 */
const crypto = require('crypto')
const { monitorEventLoopDelay } = require('perf_hooks')
const { BenchClient, nowUs, digest, Y } = require('./protocol')
const { Histogram } = require('./stats')
const { replayTrace, loadTrace, trackProgress } = require('./trace')

const TOKEN_RE = /([0-9a-z]+)\.([0-9a-z]+)\.([0-9a-z]+);/g
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

let clients = [] // {spec, client, recv, cursor, sent}
const latency = new Histogram()
// clients spread over cluster nodes: latency split by writer and receiver on the same node or not
const sameNode = new Histogram()
const crossNode = new Histogram()
const eld = monitorEventLoopDelay({ resolution: 10 })
let cpuMark = process.cpuUsage()

function trackTokens (c) {
  const { node, nodes, clientsPerRoom } = c.spec
  c.client.text.observe(event => {
    if (event.transaction.local) return
    const now = nowUs()
    for (const op of event.delta) {
      if (typeof op.insert !== 'string') continue
      TOKEN_RE.lastIndex = 0
      let m
      while ((m = TOKEN_RE.exec(op.insert)) !== null) {
        const us = now - parseInt(m[3], 36)
        latency.add(us)
        if (nodes > 1) { // the writer's node: its index in the room, round robin (makeSpecs)
          const writerNode = (parseInt(m[1], 36) % clientsPerRoom) % nodes
          ;(writerNode === node ? sameNode : crossNode).add(us)
        }
        c.recv++
      }
    }
  })
}

/** Connect all clients of this worker, `parallel` at a time; returns per-client join times. */
async function connect ({ specs, parallel, track, timeoutMs, deferSync }) {
  const joins = []
  const errors = []
  let next = 0
  const one = async () => {
    while (next < specs.length) {
      const spec = specs[next++]
      // only typists edit locally (the trace writer sends precomputed bytes)
      const c = { spec, client: new BenchClient({ ...spec, deferSync, sends: !!spec.typist }), recv: 0, sent: 0, cursor: null }
      if (track === 'tokens') trackTokens(c)
      if (track === 'progress') trackProgress(c)
      clients.push(c)
      try {
        const j = await c.client.connect(timeoutMs)
        joins.push({ idx: spec.idx, sync_ms: j.syncUs / 1000, connect_ms: j.connectUs / 1000, recv_ms: j.recvUs / 1000 })
      } catch (e) { errors.push(String(e.message || e)) }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, parallel || specs.length) }, one))
  return { joins, errors }
}

/** Typists insert one token per keystroke at `rate` keystrokes/s for durationMs (open loop). */
async function type ({ durationMs, rate }) {
  const typists = clients.filter(c => c.spec.typist && c.client.synced)
  const periodUs = 1e6 / rate
  const start = nowUs()
  const end = start + durationMs * 1000
  const keystroke = c => {
    const { text, doc } = c.client
    const index = c.cursor ? Y.createAbsolutePositionFromRelativePosition(c.cursor, doc).index : text.length
    const token = `${c.spec.idx.toString(36)}.${c.sent.toString(36)}.${nowUs().toString(36)};`
    text.insert(index, token)
    c.sent++
    c.cursor = Y.createRelativePositionFromTypeIndex(text, index + token.length, -1)
  }
  await Promise.all(typists.map(async (c, i) => {
    let due = start + periodUs * ((i * 0.618) % 1) // spread phases
    while (due < end) {
      const wait = (due - nowUs()) / 1000
      if (wait > 1) await sleep(wait)
      else if (wait < -periodUs / 1000) await sleep(0) // behind schedule: still yield for I/O
      if (!c.client.closed) keystroke(c)
      due += periodUs
    }
  }))
  const sent = {}
  for (const c of typists) sent[c.spec.idx] = c.sent
  return { sent, elapsed_s: (nowUs() - start) / 1e6 }
}

/** Wait until every client received the tokens it should, then report. */
async function drain ({ expected, timeoutMs }) {
  const deadline = Date.now() + timeoutMs
  const pending = () => clients.filter(c => c.recv < (expected[c.spec.idx] || 0))
  while (pending().length && Date.now() < deadline) await sleep(20)
  const received = {}
  const finals = {}
  for (const c of clients) {
    received[c.spec.idx] = c.recv
    const s = c.client.text.toString()
    finals[c.spec.idx] = { room: c.spec.room, len: s.length, sha: crypto.createHash('sha1').update(s).digest('hex') }
  }
  return { received, finals, latency: latency.toJSON(), latency_same_node: sameNode.toJSON(), latency_cross_node: crossNode.toJSON() }
}

/** Trace observers: wait until each reached the writer's final progress; report when. */
async function awaitProgress ({ target, timeoutMs }) {
  const deadline = Date.now() + timeoutMs
  const observers = clients.filter(c => c.spec.role === 'observer')
  while (observers.some(c => c.progress < target) && Date.now() < deadline) await sleep(20)
  return observers.map(c => {
    const s = c.client.text.toString()
    return { idx: c.spec.idx, progress: c.progress, done_us: c.lastChangeUs, len: s.length, sha: crypto.createHash('sha1').update(s).digest('hex') }
  })
}

function textSha () {
  return clients.map(c => {
    const s = c.client.text.toString()
    return { idx: c.spec.idx, len: s.length, sha: crypto.createHash('sha1').update(s).digest('hex') }
  })
}

function state () {
  return clients.map(c => ({
    apply_ms: c.client.applyDeferred() / 1000,
    idx: c.spec.idx,
    synced: c.client.synced,
    digest: digest(c.client.doc),
    cells: c.client.doc.getArray('cells').length,
    text_len: c.client.text.length
  }))
}

function report () {
  const cpu = process.cpuUsage(cpuMark)
  const out = {
    cpu_s: (cpu.user + cpu.system) / 1e6,
    eld_p99_ms: eld.percentile(99) / 1e6,
    eld_max_ms: eld.max / 1e6,
    msgs_in: clients.reduce((a, c) => a + c.client.msgsIn, 0),
    bytes_in: clients.reduce((a, c) => a + c.client.bytesIn, 0),
    msgs_out: clients.reduce((a, c) => a + c.client.msgsOut, 0),
    acks: clients.reduce((a, c) => a + c.client.acks, 0),
    closed: clients.filter(c => c.client.closed).length,
    errors: clients.flatMap(c => c.client.errors).slice(0, 5)
  }
  return out
}

function markCpu () { cpuMark = process.cpuUsage(); eld.reset(); return {} }

const handlers = {
  connect,
  type,
  drain,
  state,
  report,
  markCpu,
  awaitProgress,
  textSha,
  replay: opts => replayTrace(clients, opts, loadTrace),
  close: async () => { for (const c of clients) c.client.close(); clients = []; await sleep(50); return {} }
}

eld.enable()
process.on('disconnect', () => process.exit(0)) // coordinator gone: never linger
process.on('message', async ({ id, cmd, args }) => {
  try {
    const result = await handlers[cmd](args || {})
    process.send({ id, result })
  } catch (e) {
    process.send({ id, error: String(e.stack || e) })
  }
})
