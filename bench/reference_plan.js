// The reference side of bench/reference_speed.py: Segment's published Customer.io (Actions)
// destination planning a JSON-lines file of events, as one fresh Node process, the way
// `cio-sandbox plan` does as one fresh Python process.
//
//   TZ=UTC node bench/reference_plan.js CONFIG.json EVENTS.jsonl > requests.jsonl
//
// CONFIG: {"mode": "single" | "batch", "now": <ms since epoch>, "settings": {...},
//          "subscriptions": [{"subscribe", "partnerAction", "mapping", "batchSize"}, ...]}
// (the mappings as the sandbox runs them: each field's default under the subscription's keys).
//
// The destination runs through @segment/actions-core's Destination.onSubscription, as Segment's
// servers run it (FQL match, mapping-kit, validation, perform / performBatch), with the network
// replaced by a recorder that answers 200 {} (as tests/reference/runner.js does).
// single mode: for each event, every subscription in order (onSubscription with the event).
// batch mode: per subscription, the matching events in chunks of its batch size, each chunk one
// onSubscription with the array (performBatch); actions without a batch form go event by event.
// Output: one line per request, `{"event_index": i | [i...], "method", "url", "headers", "body": TEXT}`
// with the body text spliced in as it goes on the wire; a summary line on stderr.
'use strict'

const fs = require('fs')
const path = require('path')

const modules = process.env.CIO_REFERENCE_MODULES || path.join(__dirname, '..', 'tests', 'reference', 'node_modules')
const fetchModule = require(path.join(modules, '@segment/actions-core/dist/cjs/fetch.js'))
const core = require(path.join(modules, '@segment/actions-core'))
const fql = require(path.join(modules, '@segment/destination-subscriptions'))
const definition = require(path.join(modules, '@segment/action-destinations/dist/destinations/customerio')).default

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))

// -- the clock: Date.now() and `new Date()` read the configured instant --------------------------
const RealDate = Date
const fixedNow = config.now
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

// -- the network: every request recorded and answered 200 {} -------------------------------------
let recorded = null
const { Response } = fetchModule
fetchModule.default = async function recordingFetch(request) {
  const body = request.body === null || request.method === 'GET' ? null : await request.text()
  const headers = []
  request.headers.forEach((value, name) => headers.push([name, value]))
  recorded.push({ method: request.method, url: request.url, headers, body })
  return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } })
}

const destination = new core.Destination(definition)
const out = []
let requests = 0
let errors = 0

function write(index, request) {
  requests++
  const head = JSON.stringify({ event_index: index, method: request.method, url: request.url, headers: request.headers })
  out.push(head.slice(0, -1) + ', "body": ' + (request.body === null ? 'null' : request.body) + '}\n')
  if (out.length >= 256) {
    fs.writeSync(1, out.join(''))
    out.length = 0
  }
}

async function call(index, subscription, data) {
  recorded = []
  try {
    const output = await destination.onSubscription(subscription, data, config.settings)
    for (const item of output || []) {
      for (const status of item.multistatus || []) {
        if (status && status.status >= 400) errors++
      }
    }
  } catch (error) {
    errors++
  }
  for (const request of recorded) write(index, request)
  recorded = null
}

async function main() {
  const events = []
  for (const line of fs.readFileSync(process.argv[3], 'utf8').split('\n')) {
    if (line.trim()) events.push(JSON.parse(line))
  }
  const subscriptions = config.subscriptions.map((s) => ({ subscribe: s.subscribe, partnerAction: s.partnerAction, mapping: s.mapping }))
  if (config.mode === 'single') {
    for (let i = 0; i < events.length; i++) {
      for (const subscription of subscriptions) await call(i, subscription, events[i])
    }
  } else {
    for (let s = 0; s < subscriptions.length; s++) {
      const subscription = subscriptions[s]
      // Segment routes the events a subscription's FQL matches to it, then batches them.
      const parsed = fql.parseFql(subscription.subscribe)
      const matched = []
      for (let i = 0; i < events.length; i++) if (fql.validate(parsed, events[i])) matched.push(i)
      if (!destination.actions[subscription.partnerAction].hasBatchSupport) {
        for (const i of matched) await call(i, subscription, events[i])
        continue
      }
      const size = config.subscriptions[s].batchSize
      for (let start = 0; start < matched.length; start += size) {
        const chunk = matched.slice(start, start + size)
        await call(chunk, subscription, chunk.map((i) => events[i]))
      }
    }
  }
  fs.writeSync(1, out.join(''))
  process.stderr.write(JSON.stringify({ events: events.length, requests, errors }) + '\n')
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack) + '\n')
  process.exit(1)
})
