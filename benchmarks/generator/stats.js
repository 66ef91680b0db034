'use strict'
/**
 * Small measurement helpers shared by the coordinator and the workers.
 *
 * Latencies are recorded in a log-bucketed histogram (2% wide buckets) so that
 * workers can ship millions of samples to the coordinator as a few hundred
 * integers; percentiles are therefore accurate to ~2%, max is exact.
 */
const fs = require('fs')

const GROWTH = Math.log(1.02)

class Histogram {
  constructor () { this.buckets = {}; this.count = 0; this.max = 0; this.sum = 0 }
  add (us) {
    const v = Math.max(1, us)
    const b = Math.floor(Math.log(v) / GROWTH)
    this.buckets[b] = (this.buckets[b] || 0) + 1
    this.count++
    this.sum += v
    if (v > this.max) this.max = v
  }
  merge (h) {
    for (const [b, n] of Object.entries(h.buckets)) this.buckets[b] = (this.buckets[b] || 0) + n
    this.count += h.count
    this.sum += h.sum
    this.max = Math.max(this.max, h.max)
  }
  quantile (q) {
    if (!this.count) return null
    const keys = Object.keys(this.buckets).map(Number).sort((a, b) => a - b)
    const target = q * this.count
    let seen = 0
    for (const k of keys) {
      seen += this.buckets[k]
      if (seen >= target) return Math.min(this.max, Math.exp((k + 0.5) * GROWTH))
    }
    return this.max
  }
  /** Summary in milliseconds. */
  summary () {
    const ms = v => v === null ? null : Math.round(v) / 1000
    return {
      count: this.count,
      mean_ms: this.count ? ms(this.sum / this.count) : null,
      p50_ms: ms(this.quantile(0.5)),
      p90_ms: ms(this.quantile(0.9)),
      p99_ms: ms(this.quantile(0.99)),
      max_ms: ms(this.count ? this.max : null)
    }
  }
  toJSON () { return { buckets: this.buckets, count: this.count, max: this.max, sum: this.sum } }
  static from (o) { const h = new Histogram(); h.merge(o); return h }
}

const CLK_TCK = 100 // Linux USER_HZ; /proc/<pid>/stat times are in these units

/** All pids of the process tree rooted at `root` (servers may fork helpers). */
function processTree (root) {
  const children = {}
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      ;(children[ppid] = children[ppid] || []).push(Number(name))
    } catch (e) { /* process vanished */ }
  }
  const out = [root]
  for (let i = 0; i < out.length; i++) out.push(...(children[out[i]] || []))
  return out
}

/** CPU ticks and RSS bytes of one process tree. */
function sampleTree (root) {
  let cpuTicks = 0
  let rss = 0
  for (const p of processTree(root)) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      cpuTicks += Number(f[11]) + Number(f[12]) // fields 14 and 15 of stat(5)
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))
      if (m) rss += Number(m[1]) * 1024
    } catch (e) { /* process vanished */ }
  }
  return { cpu_s: cpuTicks / CLK_TCK, rss_bytes: rss }
}

/**
 * CPU seconds (utime+stime) and RSS bytes of a server's process tree, from /proc;
 * `pid` may be a list of roots (the nodes of a cluster): then the figures are sums
 * and `per_root` has each root's own.
 */
function sampleProcess (pid) {
  const roots = (Array.isArray(pid) ? pid : [pid]).filter(Boolean)
  if (!roots.length) return null
  const perRoot = roots.map(sampleTree)
  return {
    t: Date.now() / 1000,
    cpu_s: perRoot.reduce((a, r) => a + r.cpu_s, 0),
    rss_bytes: perRoot.reduce((a, r) => a + r.rss_bytes, 0),
    per_root: perRoot,
    host_busy_s: hostBusy()
  }
}

/** Busy CPU seconds of the whole host (all cores), from /proc/stat. */
function hostBusy () {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / CLK_TCK
}

module.exports = { Histogram, sampleProcess, hostBusy }
