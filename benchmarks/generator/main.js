'use strict'
/**
 * Load generator coordinator.
 *
 *   node generator/main.js CONFIG.json RESULT.json
 *
 * Forks worker processes (worker.js), spreads the clients over them, drives
 * the phases of one workload and samples the server's /proc CPU time and RSS
 * at the phase boundaries, so that CPU is attributed exactly to the phase that
 * caused it.  Writes one JSON result.  See ../README.md for the config keys
 * (they are produced by benchmarks/workloads.py).
 */
const fs = require('fs')
const path = require('path')
const { fork } = require('child_process')
const { BenchClient, nowUs, digest } = require('./protocol')
const { Histogram, sampleProcess } = require('./stats')
const { fillNotebookFromFile } = require('./notebook')

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
// the server under test: one process (serverPid) or the nodes of a cluster (serverPids)
const sampleServer = cfg => sampleProcess(cfg.serverPids || cfg.serverPid)
const SATURATION = 0.8 // fraction of the generator's single core
const INTERFERENCE = 0.1 // fraction of a core used by other processes on the host

class Workers {
  constructor (n) {
    this.procs = Array.from({ length: n }, () => fork(path.join(__dirname, 'worker.js'), [], { serialization: 'advanced' }))
    this.pending = new Map()
    this.seq = 0
    for (const p of this.procs) {
      p.on('message', ({ id, result, error }) => {
        const { resolve, reject } = this.pending.get(id)
        this.pending.delete(id)
        error ? reject(new Error(error)) : resolve(result)
      })
    }
  }
  call (i, cmd, args) {
    const id = ++this.seq
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.procs[i].send({ id, cmd, args })
    })
  }
  all (cmd, argsFor = () => ({})) { return Promise.all(this.procs.map((_, i) => this.call(i, cmd, argsFor(i)))) }
  async stop () { await this.all('close'); for (const p of this.procs) p.kill() }
}

/**
 * Client specs: room r gets clientsPerRoom clients, the first typistsPerRoom of them type.
 * A room served by several nodes (cluster) lists one URL per node in `urls`: client k of
 * the room connects to node k % nodes (round robin, typists included).
 */
function makeSpecs (cfg) {
  const specs = []
  cfg.rooms.forEach((room, r) => {
    const nodes = room.urls ? room.urls.length : 1
    for (let k = 0; k < cfg.clientsPerRoom; k++) {
      const role = cfg.mode === 'trace' ? (k === 0 ? 'writer' : 'observer') : 'client'
      const url = room.urls ? room.urls[k % nodes] : room.url
      specs.push({ idx: specs.length, room: r, url, docName: room.docName, protocol: cfg.protocol, role, typist: k < (cfg.typistsPerRoom || 0), node: k % nodes, nodes, clientsPerRoom: cfg.clientsPerRoom })
    }
  })
  return specs
}

function split (specs, n, mode) {
  const parts = Array.from({ length: n }, () => [])
  // the trace writer and its acking observer must share a process
  for (const s of specs) parts[mode === 'trace' && s.idx <= 1 ? 0 : s.idx % n].push(s)
  return parts
}

/**
 * Generator CPU over the measured phase, and how much CPU *other* processes
 * used meanwhile (host busy time - server - generator): the machine is shared
 * (e.g. test suites), and such rows must be flagged, not trusted.
 */
function generatorLoad (reports, ownCpu0, t0, s1, s2, auxCpu = 0) {
  const own = process.cpuUsage(ownCpu0)
  const cpu = reports.reduce((a, r) => a + r.cpu_s, 0) + (own.user + own.system) / 1e6
  const wall = (nowUs() - t0) / 1e6
  // auxCpu: the servers' own helpers (Redis, a database) measured separately
  const other = s1 && s2 ? (s2.host_busy_s - s1.host_busy_s) - (s2.cpu_s - s1.cpu_s) - auxCpu - cpu : null
  return {
    other_cpu_s: other,
    other_util: other === null || wall <= 0 ? null : Math.max(0, other) / wall,
    interference: other !== null && wall > 0 && other / wall > INTERFERENCE,
    cpu_s: cpu,
    wall_s: wall,
    utilisation: wall > 0 ? cpu / wall : 0,
    saturated: wall > 0 && cpu / wall > SATURATION,
    eld_p99_ms: Math.max(...reports.map(r => r.eld_p99_ms)),
    eld_max_ms: Math.max(...reports.map(r => r.eld_max_ms)),
    msgs_in: reports.reduce((a, r) => a + r.msgs_in, 0),
    bytes_in: reports.reduce((a, r) => a + r.bytes_in, 0),
    msgs_out: reports.reduce((a, r) => a + r.msgs_out, 0),
    closed_clients: reports.reduce((a, r) => a + r.closed, 0),
    errors: reports.flatMap(r => r.errors).slice(0, 5)
  }
}

const joinSummary = joins => {
  const h = new Histogram(); const r = new Histogram()
  for (const j of joins) { h.add(j.sync_ms * 1000); r.add(j.recv_ms * 1000) }
  return { applied: h.summary(), received: r.summary() }
}

async function connectAll (w, parts, cfg, track, parallel, deferSync = false) {
  const res = await w.all('connect', i => ({ specs: parts[i], parallel, track, deferSync, timeoutMs: cfg.connectTimeoutMs || 60000 }))
  return { joins: res.flatMap(r => r.joins), errors: res.flatMap(r => r.errors) }
}

/** Typing workloads (one text document, many rooms): latency, delivery, CPU per update. */
async function runTyping (cfg, w, parts, specs, out) {
  const s0 = sampleServer(cfg)
  const { joins, errors } = await connectAll(w, parts, cfg, 'tokens', cfg.connectParallel || 25)
  out.join = joinSummary(joins); out.connect_errors = errors.slice(0, 5); out.connected = joins.length
  await sleep(1000)
  const s1 = sampleServer(cfg)
  const a1 = sampleProcess(cfg.auxPids || [])
  await w.all('markCpu'); const own0 = process.cpuUsage(); const t0 = nowUs()
  const typed = await w.all('type', () => ({ durationMs: cfg.durationMs, rate: cfg.rate }))
  const sent = Object.assign({}, ...typed.map(t => t.sent))
  const roomSent = {}
  for (const s of specs) roomSent[s.room] = (roomSent[s.room] || 0) + (sent[s.idx] || 0)
  const expected = {}
  for (const s of specs) expected[s.idx] = roomSent[s.room] - (sent[s.idx] || 0)
  const drained = await w.all('drain', () => ({ expected, timeoutMs: cfg.drainTimeoutMs || 15000 }))
  const s2 = sampleServer(cfg)
  const a2 = sampleProcess(cfg.auxPids || [])
  const auxCpu = a1 && a2 ? a2.cpu_s - a1.cpu_s : 0
  out.generator = generatorLoad(await w.all('report'), own0, t0, s1, s2, auxCpu)
  const latency = new Histogram()
  const sameNode = new Histogram()
  const crossNode = new Histogram()
  const finals = {}
  let received = 0
  for (const d of drained) {
    latency.merge(d.latency)
    if (d.latency_same_node) sameNode.merge(d.latency_same_node)
    if (d.latency_cross_node) crossNode.merge(d.latency_cross_node)
    received += Object.values(d.received).reduce((a, b) => a + b, 0)
    for (const [idx, f] of Object.entries(d.finals)) (finals[f.room] = finals[f.room] || new Set()).add(f.sha)
  }
  const updatesIn = Object.values(sent).reduce((a, b) => a + b, 0)
  const expectedTotal = Object.values(expected).reduce((a, b) => a + b, 0)
  out.updates_in = updatesIn
  out.deliveries_expected = expectedTotal
  out.deliveries = received
  out.delivery_ratio = expectedTotal ? received / expectedTotal : null
  out.diverged_rooms = Object.values(finals).filter(set => set.size > 1).length
  out.latency = latency.summary()
  out.latency_hist = latency.toJSON()
  if (crossNode.count) { // clients spread over several nodes: writer and receiver on the same node, or not
    out.latency_same_node = sameNode.summary()
    out.latency_cross_node = crossNode.summary()
  }
  out.typing_s = typed[0].elapsed_s
  if (s0) {
    out.server = {
      rss_before_bytes: s0.rss_bytes,
      rss_connected_bytes: s1.rss_bytes,
      rss_after_bytes: s2.rss_bytes,
      rss_per_connection_bytes: (s1.rss_bytes - s0.rss_bytes) / specs.length,
      rss_per_room_bytes: (s1.rss_bytes - s0.rss_bytes) / cfg.rooms.length,
      connect_cpu_s: s1.cpu_s - s0.cpu_s,
      cpu_s: s2.cpu_s - s1.cpu_s,
      cpu_us_per_update_in: updatesIn ? (s2.cpu_s - s1.cpu_s) * 1e6 / updatesIn : null,
      cpu_us_per_message_out: expectedTotal ? (s2.cpu_s - s1.cpu_s) * 1e6 / expectedTotal : null
    }
    if (s1.per_root.length > 1) {
      out.server.per_node_cpu_s = s2.per_root.map((r, i) => r.cpu_s - s1.per_root[i].cpu_s)
      out.server.per_node_rss_after_bytes = s2.per_root.map(r => r.rss_bytes)
    }
  }
  if (a1 && a2) { // helpers of the server under test (Redis, the store's database), on the server's core
    out.aux = {
      cpu_s: auxCpu,
      per_pid_cpu_s: a2.per_root.map((r, i) => r.cpu_s - a1.per_root[i].cpu_s),
      cpu_us_per_update_in: updatesIn ? auxCpu * 1e6 / updatesIn : null,
      rss_after_bytes: a2.rss_bytes
    }
  }
}

/** Join storm: an anchor keeps the document alive, then N clients join at once. */
async function runJoin (cfg, w, parts, specs, out) {
  const anchor = new BenchClient({ url: cfg.rooms[0].url, docName: cfg.rooms[0].docName, protocol: cfg.protocol })
  if (cfg.seedNotebook) fillNotebookFromFile(anchor.doc, cfg.seedNotebook)
  const a = await anchor.connect(cfg.connectTimeoutMs || 120000)
  out.anchor_sync_ms = a.syncUs / 1000
  if (cfg.seedNotebook) await sleep(2000) // let the server apply the seeding update
  const s1 = sampleServer(cfg)
  await w.all('markCpu'); const own0 = process.cpuUsage(); const t0 = nowUs()
  const { joins, errors } = await connectAll(w, parts, cfg, null, 0, true)
  const s2 = sampleServer(cfg)
  out.generator = generatorLoad(await w.all('report'), own0, t0, s1, s2)
  out.storm_s = (nowUs() - t0) / 1e6
  out.connected = joins.length
  out.connect_errors = errors.slice(0, 5)
  out.join = joinSummary(joins)
  const states = (await w.all('state')).flat()
  const ref = { digest: digest(anchor.doc), cells: anchor.doc.getArray('cells').length }
  out.cells = ref.cells
  const apply = new Histogram()
  for (const s of states) apply.add(s.apply_ms * 1000)
  out.client_apply = apply.summary()
  out.complete_clients = states.filter(s => s.synced && s.cells === ref.cells && s.digest === ref.digest).length
  out.delivery_ratio = out.complete_clients / specs.length
  if (s1) out.server = { cpu_s: s2.cpu_s - s1.cpu_s, rss_before_bytes: s1.rss_bytes, rss_after_bytes: s2.rss_bytes, rss_per_connection_bytes: (s2.rss_bytes - s1.rss_bytes) / specs.length }
  anchor.close()
}

/** Trace replay: writer + observers; every observer must end with the writer's text. */
async function runTrace (cfg, w, parts, specs, out) {
  const { joins, errors } = await connectAll(w, parts, cfg, 'progress', 25)
  out.connected = joins.length; out.connect_errors = errors.slice(0, 5)
  const s1 = sampleServer(cfg)
  await w.all('markCpu'); const own0 = process.cpuUsage(); const t0 = nowUs()
  const rep = await w.call(0, 'replay', cfg.trace)
  const obs = (await w.all('awaitProgress', () => ({ target: rep.target_progress, timeoutMs: cfg.trace.drainTimeoutMs || 60000 }))).flat()
  const s2 = sampleServer(cfg)
  out.generator = generatorLoad(await w.all('report'), own0, t0, s1, s2)
  const writer = (await w.call(0, 'textSha')).find(c => c.idx === 0)
  const done = Math.max(...obs.map(o => o.done_us))
  out.replay = rep
  out.edits = rep.sent
  out.all_observers_done_s = (done - rep.start_us) / 1e6
  out.edits_per_s = rep.sent / out.all_observers_done_s
  out.writer_matches_end_content = rep.matches_end_content
  out.observers_matching = obs.filter(o => o.sha === writer.sha).length
  out.observers = obs.length
  out.final_len = writer.len
  out.final_sha = writer.sha
  out.delivery_ratio = obs.length ? out.observers_matching / obs.length : null
  if (s1) out.server = { cpu_s: s2.cpu_s - s1.cpu_s, cpu_us_per_update_in: (s2.cpu_s - s1.cpu_s) * 1e6 / rep.sent, rss_after_bytes: s2.rss_bytes }
}

/** Cold load: one client joins a document the server must read from its store. */
async function runProbe (cfg, w, parts, specs, out) {
  const s1 = sampleServer(cfg)
  const { joins, errors } = await connectAll(w, parts, cfg, null, 1)
  const s2 = sampleServer(cfg)
  out.connect_errors = errors.slice(0, 5)
  out.connected = joins.length
  out.join = joinSummary(joins)
  out.state = (await w.all('state')).flat()[0]
  out.text = (await w.all('textSha')).flat()[0]
  if (s1) out.server = { cpu_s: s2.cpu_s - s1.cpu_s, rss_after_bytes: s2.rss_bytes }
}

const MODES = { text: runTyping, rooms: runTyping, join: runJoin, trace: runTrace, probe: runProbe }

async function main () {
  const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
  const out = { mode: cfg.mode, protocol: cfg.protocol, rooms: cfg.rooms.length, clients_per_room: cfg.clientsPerRoom }
  const specs = makeSpecs(cfg)
  const n = Math.max(1, Math.min(cfg.workers || 4, specs.length))
  const w = new Workers(n)
  const killer = setTimeout(() => { console.error('generator: global timeout'); process.exit(3) }, cfg.globalTimeoutMs || 600000)
  try {
    await MODES[cfg.mode](cfg, w, split(specs, n, cfg.mode), specs, out)
    const g = out.generator
    if (g && g.saturated) console.error(`WARNING: load generator saturated (${(g.utilisation * 100).toFixed(0)}% of its core)`)
    if (g && g.interference) console.error(`WARNING: other processes used ${(g.other_util * 100).toFixed(0)}% of a core during the measurement`)
  } catch (e) {
    out.error = String(e.stack || e)
  }
  fs.writeFileSync(process.argv[3], JSON.stringify(out, null, 1))
  await Promise.race([w.stop(), sleep(3000)])
  for (const p of w.procs) p.kill('SIGKILL')
  clearTimeout(killer)
  process.exit(out.error ? 1 : 0)
}

main()
