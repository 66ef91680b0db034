'use strict'
/**
 * Hocuspocus peer server with its SQLite extension (@hocuspocus/extension-sqlite):
 * documents are stored as full Yjs states in SQLITE_DB, written by Hocuspocus's
 * debounced onStoreDocument (its defaults: 2 s debounce, 10 s max, and at once
 * when the last client leaves).  Loopback only; PORT and SQLITE_DB from the environment.
 */
const { Server } = require('@hocuspocus/server')
const { SQLite } = require('@hocuspocus/extension-sqlite')

const database = process.env.SQLITE_DB
if (!database) throw new Error('SQLITE_DB is not set (a file path: the SQLite extension would otherwise keep documents in memory)')
const server = new Server({
  port: Number(process.env.PORT),
  address: '127.0.0.1',
  quiet: true,
  extensions: [new SQLite({ database })]
})
server.listen().then(() => console.log(`hocuspocus (sqlite ${database}) listening on 127.0.0.1:${process.env.PORT}`))
