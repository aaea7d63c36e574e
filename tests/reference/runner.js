// The reference side of the differential tests: Segment's published Customer.io (Actions)
// destination, run through @segment/actions-core's Destination the way Segment's servers run it
// (onSubscription: FQL match, mapping-kit, validation, perform / performBatch), with the network
// replaced by a recorder. One process serves a whole test session: JSON lines in, JSON lines out.
//
// Request line:
//   {"id": 1, "mode": "single" | "batch", "now": <ms since epoch>,
//    "subscription": {"subscribe": FQL, "partnerAction": slug, "mapping": {...}},
//    "settings": {...}, "events": [event, ...]}
// Answer line (one per request line, same id):
//   {"id": 1, "answer": [call, ...]}   or   {"id": 1, "fatal": message}
// Two more kinds of line: {"id", "op": "describe"} answers every action's fields (label, type,
// required, default); {"id", "op": "stringify", "texts": [...]} answers JSON.stringify(JSON.parse(t))
// for each text.
// single mode: one call per event, in order; batch mode: one call for the events together
// (actions without performBatch: one call per event, as Segment does). A call is
//   {"events": [indexes], "requests": [{"method", "url", "headers": [[name, value]...], "body"}],
//    "output": [...] | null, "error": {"name", "message"} | null}
// `body` is the request body TEXT exactly as it would go on the wire (null: no body).
//
// Run with TZ=UTC (the destination reads zone-less dates in the local zone; Segment runs in UTC).
'use strict'

const path = require('path')
const readline = require('readline')

// CIO_REFERENCE_MODULES: another node_modules (bench/reference_drift.py runs a newer version so).
const modules = process.env.CIO_REFERENCE_MODULES || path.join(__dirname, 'node_modules')
const fetchModule = require(path.join(modules, '@segment/actions-core/dist/cjs/fetch.js'))
const core = require(path.join(modules, '@segment/actions-core'))
const definition = require(path.join(modules, '@segment/action-destinations/dist/destinations/customerio')).default

// -- the clock: Date.now() and `new Date()` read a fixed instant, set per request line ----------
const RealDate = Date
let fixedNow = RealDate.now()
class FixedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(fixedNow)
    else super(...args)
  }
  static now() {
    return fixedNow
  }
}
global.Date = FixedDate

// -- the network: every request is recorded and answered 200 {} -------------------------------
let recorded = null
const { Response } = fetchModule
fetchModule.default = async function recordingFetch(request) {
  const body = request.body === null || request.method === 'GET' ? null : await request.text()
  const headers = []
  request.headers.forEach((value, name) => headers.push([name, value]))
  if (recorded === null) throw new Error('a request was made outside a test case')
  recorded.push({ method: request.method, url: request.url, headers, body })
  return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } })
}

const destination = new core.Destination(definition)

function errorOf(error) {
  if (error === null || error === undefined) return { name: 'Error', message: String(error) }
  return { name: String(error.name), message: String(error.message) }
}

async function call(indexes, subscription, events, settings) {
  recorded = []
  const entry = { events: indexes, requests: recorded, output: null, error: null }
  try {
    entry.output = await destination.onSubscription(subscription, events, settings)
  } catch (error) {
    entry.error = errorOf(error)
  }
  recorded = null
  return entry
}

// The fields of every action, for the tests that compare the sandbox's field table.
function describe() {
  const out = {}
  for (const [slug, action] of Object.entries(definition.actions)) {
    const fields = {}
    for (const [name, field] of Object.entries(action.fields)) {
      fields[name] = { label: field.label, type: field.type, required: Boolean(field.required), default: field.default === undefined ? null : field.default, hasDefault: field.default !== undefined }
    }
    out[slug] = { title: action.title, fields, hasBatch: typeof action.performBatch === 'function' }
  }
  return out
}

// The mapping Segment's UI saves for a subscription that keeps the default mappings: each
// field's default, then the subscription's own keys over them.
function effectiveMapping(slug, mapping, useDefaults) {
  if (!useDefaults) return mapping
  const defaults = {}
  const action = definition.actions[slug]
  for (const [name, field] of Object.entries(action ? action.fields : {})) {
    if (field.default !== undefined) defaults[name] = field.default
  }
  return { ...defaults, ...mapping }
}

async function answer(line) {
  if (line.op === 'describe') return describe()
  if (line.op === 'stringify') return line.texts.map((text) => JSON.stringify(JSON.parse(text)))
  fixedNow = line.now
  const given = line.subscription
  const subscription = {
    subscribe: given.subscribe,
    partnerAction: given.partnerAction,
    mapping: effectiveMapping(given.partnerAction, given.mapping, given.useDefaultMappings)
  }
  const action = destination.actions[subscription.partnerAction]
  const calls = []
  const single = line.mode === 'single' || !action || !action.hasBatchSupport
  if (single) {
    for (let i = 0; i < line.events.length; i++) {
      calls.push(await call([i], subscription, line.events[i], line.settings))
    }
  } else {
    calls.push(await call(line.events.map((_, i) => i), subscription, line.events, line.settings))
  }
  return calls
}

const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
let queue = Promise.resolve()
input.on('line', (text) => {
  queue = queue.then(async () => {
    let id = null
    let out
    try {
      const line = JSON.parse(text)
      id = line.id
      out = { id, answer: await answer(line) }
    } catch (error) {
      out = { id, fatal: String(error && error.stack) }
    }
    // JSON.stringify escapes lone surrogates, so the line is valid UTF-8 whatever the values.
    process.stdout.write(JSON.stringify(out) + '\n')
  })
})
input.on('close', () => {
  queue.then(() => process.exit(0))
})
