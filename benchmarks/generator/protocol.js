'use strict'
/**
 * One benchmark client: a real Y.Doc synced over a real WebSocket.
 *
 * Speaks the y-websocket protocol (message = varUint type, then payload;
 * type 0 = sync, 1 = awareness) or the Hocuspocus dialect of it (every message
 * is prefixed with the document name as a varString, and an auth message must
 * be sent before the server answers sync messages).  We implement the framing
 * here instead of using the providers so that both dialects share the same
 * code path and cost the generator the same CPU.
 *
 * Awareness is neither sent nor interpreted (incoming awareness is ignored).
 */
const WebSocket = require('ws')
const Y = require('yjs')
const sync = require('y-protocols/sync')
const encoding = require('lib0/encoding')
const decoding = require('lib0/decoding')

const MSG_SYNC = 0
const HP_AUTH = 2 // hocuspocus: auth message
const HP_SYNC_REPLY = 4 // hocuspocus: sync message that must not trigger a new step 1
const HP_SYNC_STATUS = 8 // hocuspocus: per-update ack

const nowUs = () => Number(process.hrtime.bigint() / 1000n)

class BenchClient {
  /**
   * @param {object} opts
   * @param {string} opts.url websocket URL of the room
   * @param {'y-websocket'|'hocuspocus'} opts.protocol
   * @param {string} [opts.docName] hocuspocus document name
   * @param {boolean} [opts.sends] whether local edits are sent as updates; observers
   *   pass false so Yjs does not encode an 'update' event for every remote transaction
   * @param {boolean} [opts.deferSync] keep the server's SyncStep2 and apply it only
   *   in applyDeferred(): join storms then time the server's delivery, not the
   *   generator's (single core) decoding of N large documents in a row
   */
  constructor ({ url, protocol = 'y-websocket', docName = '', deferSync = false, sends = true }) {
    this.deferSync = deferSync
    this.deferred = null
    this.url = url
    this.hocuspocus = protocol === 'hocuspocus'
    this.docName = docName
    this.doc = new Y.Doc()
    this.text = this.doc.getText('source')
    this.synced = false
    this.closed = false
    this.msgsIn = 0
    this.bytesIn = 0
    this.msgsOut = 0
    this.acks = 0 // hocuspocus SyncStatus messages
    this.errors = []
    if (sends) {
      this.doc.on('update', (update, origin) => {
        if (origin !== this) this._sendSync(enc => sync.writeUpdate(enc, update))
      })
    }
  }

  /**
   * Open the socket; resolves once SyncStep2 from the server was applied, with
   * times since the call: socket open, SyncStep2 received (before applying), applied.
   */
  connect (timeoutMs = 60000) {
    const t0 = nowUs()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sync timeout ${this.url}`)), timeoutMs)
      this._onSynced = () => { clearTimeout(timer); resolve({ connectUs: this.openedUs - t0, recvUs: this.step2RecvUs - t0, syncUs: nowUs() - t0 }) }
      const ws = this.ws = new WebSocket(this.url, { perMessageDeflate: false, maxPayload: 1 << 30 })
      ws.binaryType = 'nodebuffer'
      ws.on('open', () => {
        this.openedUs = nowUs()
        if (this.hocuspocus) {
          this._send(enc => { encoding.writeVarUint(enc, HP_AUTH); encoding.writeVarUint(enc, 0); encoding.writeVarString(enc, 'bench') })
        }
        this._sendSync(enc => sync.writeSyncStep1(enc, this.doc))
      })
      ws.on('message', data => this._onMessage(data))
      ws.on('error', err => { this.errors.push(String(err)); clearTimeout(timer); reject(err) })
      ws.on('close', (code) => {
        this.closed = true
        if (!this.synced) { clearTimeout(timer); reject(new Error(`closed before sync (${code}) ${this.url}`)) }
      })
    })
  }

  _send (write) {
    const enc = encoding.createEncoder()
    if (this.hocuspocus) encoding.writeVarString(enc, this.docName)
    write(enc)
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(encoding.toUint8Array(enc))
      this.msgsOut++
    }
  }

  _sendSync (write) {
    this._send(enc => { encoding.writeVarUint(enc, MSG_SYNC); write(enc) })
  }

  _onMessage (data) {
    this.msgsIn++
    this.bytesIn += data.length
    const dec = decoding.createDecoder(data)
    if (this.hocuspocus) decoding.readVarString(dec)
    const type = decoding.readVarUint(dec)
    if (type === MSG_SYNC || (this.hocuspocus && type === HP_SYNC_REPLY)) {
      const enc = encoding.createEncoder()
      if (this.hocuspocus) encoding.writeVarString(enc, this.docName)
      encoding.writeVarUint(enc, MSG_SYNC)
      const header = encoding.length(enc)
      if (!this.synced && decoding.peekVarUint(dec) === sync.messageYjsSyncStep2) {
        this.step2RecvUs = nowUs()
        if (this.deferSync) {
          decoding.readVarUint(dec)
          this.deferred = decoding.readVarUint8Array(dec)
          this.synced = true
          this._onSynced()
          return
        }
      }
      const syncType = sync.readSyncMessage(dec, enc, this.doc, this)
      if (encoding.length(enc) > header) { this.ws.send(encoding.toUint8Array(enc)); this.msgsOut++ }
      if (syncType === sync.messageYjsSyncStep2 && !this.synced) {
        this.synced = true
        this._onSynced()
      }
    } else if (this.hocuspocus && type === HP_SYNC_STATUS) {
      this.acks++
    }
    // awareness (1), auth replies and custom room messages are ignored
  }

  /** Apply a SyncStep2 kept by deferSync; returns the time it took in microseconds. */
  applyDeferred () {
    if (!this.deferred) return 0
    const t = nowUs()
    Y.applyUpdate(this.doc, this.deferred, this)
    this.deferred = null
    return nowUs() - t
  }

  close () {
    if (this.ws && !this.closed) this.ws.close()
    this.closed = true
  }
}

/** Digest of a document's state vector: equal digests mean the same operations were applied. */
function digest (doc) {
  const sv = Array.from(Y.decodeStateVector(Y.encodeStateVector(doc)).entries()).sort((a, b) => a[0] - b[0])
  return require('crypto').createHash('sha1').update(JSON.stringify(sv)).digest('hex')
}

module.exports = { BenchClient, nowUs, digest, Y }
