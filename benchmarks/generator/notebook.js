'use strict'
/**
 * Fill a Y.Doc with an nbformat-4 notebook using the jupyter_ydoc YNotebook
 * layout ("meta" map, "cells" array of maps whose "source" is a Y.Text).
 *
 * Only used to seed servers that have no document store of their own
 * (y-websocket, Hocuspocus): a seeding client uploads the notebook before the
 * join storm so every server serves the same kind of document.
 */
const fs = require('fs')
const Y = require('yjs')

const joinSource = s => Array.isArray(s) ? s.join('') : (s || '')

function fillNotebook (doc, nb) {
  doc.transact(() => {
    const meta = doc.getMap('meta')
    meta.set('nbformat', nb.nbformat)
    meta.set('nbformat_minor', nb.nbformat_minor)
    meta.set('metadata', new Y.Map(Object.entries(nb.metadata || {})))
    const cells = doc.getArray('cells')
    cells.push(nb.cells.map(cell => {
      const y = new Y.Map()
      y.set('id', cell.id || '')
      y.set('cell_type', cell.cell_type)
      y.set('source', new Y.Text(joinSource(cell.source)))
      y.set('metadata', new Y.Map(Object.entries(cell.metadata || {})))
      if (cell.cell_type === 'code') {
        y.set('execution_count', cell.execution_count ?? null)
        y.set('outputs', Y.Array.from((cell.outputs || []).map(o => new Y.Map(Object.entries(o)))))
      }
      return y
    }))
  })
}

function fillNotebookFromFile (doc, path) {
  fillNotebook(doc, JSON.parse(fs.readFileSync(path, 'utf8')))
}

module.exports = { fillNotebook, fillNotebookFromFile }
