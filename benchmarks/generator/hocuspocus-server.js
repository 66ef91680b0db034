'use strict'
/**
 * Hocuspocus peer server for the benchmarks: no extensions, no persistence,
 * loopback only.  PORT from the environment.
 */
const { Server } = require('@hocuspocus/server')

const server = new Server({ port: Number(process.env.PORT), address: '127.0.0.1', quiet: true })
server.listen().then(() => console.log(`hocuspocus listening on 127.0.0.1:${process.env.PORT}`))
