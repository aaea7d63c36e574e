// Answers one JSON request per line on stdin with one JSON line on stdout, using the published
// date packages the classic Customer.io integration depends on. Requests:
//   {"op": "is", "value": s, "strict": b}  -> isodate.is(s, strict)
//   {"op": "parse", "value": s}            -> isodate.parse(s).getTime() (null for NaN)
//   {"op": "new_date", "value": v}         -> newDate(v).getTime() (null for NaN)
//   {"op": "convert", "value": v}          -> isodate-traverse(v), then each Date as unix-time
'use strict';
const readline = require('readline');
const isodate = require('@segment/isodate');
const traverse = require('@segment/isodate-traverse');
const newDate = require('new-date');
const unixTime = require('unix-time');

function ms(date) {
  const t = date.getTime();
  return Number.isNaN(t) ? null : t;
}

function seconds(value) {
  if (value instanceof Date) {
    const s = unixTime(value);
    return Number.isNaN(s) ? null : s;
  }
  if (Array.isArray(value)) return value.map(seconds);
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value)) out[key] = seconds(value[key]);
    return out;
  }
  return value;
}

function answer(request) {
  switch (request.op) {
    case 'is': return isodate.is(request.value, request.strict);
    case 'parse': return ms(isodate.parse(request.value));
    case 'new_date': return ms(newDate(request.value));
    case 'convert': return seconds(traverse(request.value));
    default: throw new Error('unknown op ' + request.op);
  }
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let out;
  try {
    out = { ok: answer(JSON.parse(line)) };
  } catch (err) {
    out = { error: String(err) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
