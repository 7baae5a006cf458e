package redisbus

import "github.com/redis/go-redis/v9"

// The ledger's scripts. Every key they touch carries the bus's hash tag
// (busTag), as a job's dedup and event keys do: storeBeginScript stores an
// event and takes its job's hook lease in one script, which a Redis
// Cluster allows only for keys of one slot. The job keys that the claim
// script builds itself are in that slot too.
//
// A job's record, P{bus}:j:ID, is a hash: u the status URL, t the type,
// d the dispatch time (ms), k the fingerprint of the API key that
// dispatched it (when known), tr the job's trace (when known and at most
// 128 bytes), tok the fencing counter, n the claims, h the hook leases
// granted, run the token of the live hook lease; or, once the job is
// acked, the tombstone x=TOKEN for the retention. The ZSET P{bus}:due
// scores each pending id with the time (ms) of its next action: its due
// time, its claim's or its hook lease's end, its next try.

// recordScript: KEYS due, job; ARGV id, u, t, d, due, expire-at (ms), the
// dispatching key's fingerprint ("" for none), the job's trace ("" for
// none).
var recordScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[2], 'u', ARGV[2], 't', ARGV[3], 'd', ARGV[4])
if ARGV[7] ~= '' then redis.call('HSET', KEYS[2], 'k', ARGV[7]) end
if ARGV[8] and ARGV[8] ~= '' then redis.call('HSET', KEYS[2], 'tr', ARGV[8]) end
redis.call('PEXPIREAT', KEYS[2], ARGV[6])
redis.call('ZADD', KEYS[1], 'NX', ARGV[5], ARGV[1])
return 1
`)

// claimScript: KEYS due, dead; ARGV now, until, max, the job keys'
// prefix, the dead set's cap, the most due ids to look at. The job keys
// are built in the script (they share the due key's slot). It looks at
// due ids, lowest score first, until it has claimed max or looked at the
// most it may:
//   - an id whose record is gone or a tombstone is dropped (an orphan):
//     it takes no place in the batch;
//   - an id or a record that this bus could not have written (an id
//     outside [A-Za-z0-9_-] or longer than 128 bytes, a key that is not
//     a hash, a field too long, a number that is not one) is quarantined:
//     its record deleted, its id (cut to 128 bytes) moved to the dead set,
//     and reported with the reason, so that it fails no claim;
//   - any other entry loses its expired hook lease, draws a token and is
//     leased until until. Its trace, optional, is returned only when it is
//     at most 128 bytes long (else empty): a longer one is dropped, not a
//     reason to quarantine the entry.
//
// Every field returned is bounded, so Go never reads a value of any size.
// Returns {claimed, quarantined, looked}: {id, d, u, t, tok, n, k, tr} per
// claimed entry, {id, reason} per quarantined one, and the number of due
// ids looked at (it equals the limit when there may be more due).
var claimScript = redis.NewScript(`
local now, want, prefix = ARGV[1], tonumber(ARGV[3]), ARGV[4]
local deadCap, budget = tonumber(ARGV[5]), tonumber(ARGV[6])
local out, bad, looked = {}, {}, 0
local function int(v)
  return v == false or (#v <= 15 and string.match(v, '^%-?%d+$') ~= nil)
end
local function quarantine(id, k, why)
  redis.call('ZREM', KEYS[1], id)
  if k then redis.call('DEL', k) end
  local m = string.sub(id, 1, 128)
  redis.call('ZADD', KEYS[2], now, m)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(deadCap + 1))
  bad[#bad + 1] = {m, why}
end
while #out < want and looked < budget do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, math.min(want - #out, budget - looked))
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    looked = looked + 1
    if #id > 128 or #id == 0 or string.find(id, '[^%w_-]') then
      quarantine(id, nil, 'invalid_id')
    else
      local k = prefix .. id
      local typ = redis.call('TYPE', k)['ok']
      if typ == 'none' then
        redis.call('ZREM', KEYS[1], id)
      elseif typ ~= 'hash' then
        quarantine(id, k, 'not_a_hash')
      elseif redis.call('HEXISTS', k, 'x') == 1 then
        redis.call('ZREM', KEYS[1], id)
      elseif redis.call('HSTRLEN', k, 'u') > 4096 or redis.call('HSTRLEN', k, 't') > 128 or
          redis.call('HSTRLEN', k, 'k') > 64 then
        quarantine(id, k, 'oversized_field')
      else
        local f = redis.call('HMGET', k, 'd', 'u', 't', 'tok', 'n', 'k', 'run', 'h')
        if not f[1] or not int(f[1]) or not int(f[4]) or not int(f[5]) or not int(f[7]) or not int(f[8]) then
          quarantine(id, k, 'malformed_field')
        else
          redis.call('HDEL', k, 'run')
          local tok = redis.call('HINCRBY', k, 'tok', 1)
          local n = redis.call('HINCRBY', k, 'n', 1)
          redis.call('ZADD', KEYS[1], ARGV[2], id)
          local tr = ''
          if redis.call('HSTRLEN', k, 'tr') <= 128 then tr = redis.call('HGET', k, 'tr') or '' end
          out[#out + 1] = {id, f[1], f[2] or '', f[3] or '', tok, n, f[6] or '', tr}
        end
      end
    end
  end
end
return {out, bad, looked}
`)

// beginLua defines begin(due, job, id, now, till, stored, expireAt), the
// hook lease: stored is '1' when the caller's Store stored the event,
// expireAt when an entry begin creates expires (ms). It returns
// {-1, 0, ""} (done), {0, 0, ""} (a live lease elsewhere) or
// {token, runs, tr} (granted), tr the entry's trace when it has one of at
// most 128 bytes, else "" (as the claim script returns it), so that the
// run under the lease can link to the job's own span.
const beginLua = `
local function begin(due, job, id, now, till, stored, expireAt)
  local f = redis.call('HMGET', job, 'd', 'x', 'run')
  if f[2] then return {-1, 0, ''} end
  if not f[1] then
    if stored ~= '1' then return {-1, 0, ''} end
    redis.call('HSET', job, 'd', now)
    redis.call('PEXPIREAT', job, expireAt)
  elseif f[3] then
    local s = redis.call('ZSCORE', due, id)
    if s and tonumber(s) > tonumber(now) then return {0, 0, ''} end
  end
  local tok = redis.call('HINCRBY', job, 'tok', 1)
  local h = redis.call('HINCRBY', job, 'h', 1)
  redis.call('HSET', job, 'run', tok)
  redis.call('ZADD', due, till, id)
  local tr = ''
  if redis.call('HSTRLEN', job, 'tr') <= 128 then tr = redis.call('HGET', job, 'tr') or '' end
  return {tok, h, tr}
end
`

// beginScript runs begin: KEYS due, job; ARGV id, now, until, stored
// (1/0), expire-at.
var beginScript = redis.NewScript(beginLua + `
return begin(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
`)

// storeBeginScript stores a terminal event (storeLua's store) and, only
// if this call stored it, takes its job's hook lease as the storer
// (begin with stored '1'): KEYS seen, ev, due, job; ARGV dedup age, the
// event's JSON, retention, channel, job id, max event size, now, until,
// expire-at. Returns {0, 0, 0, ""} when not stored, else {1, token,
// runs, tr} with begin's answer.
var storeBeginScript = redis.NewScript(storeLua + beginLua + `
if store(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]) == 0 then
  return {0, 0, 0, ''}
end
local l = begin(KEYS[3], KEYS[4], ARGV[5], ARGV[7], ARGV[8], '1', ARGV[9])
return {1, l[1], l[2], l[3]}
`)

// renewScript: KEYS due, job; ARGV id, token, until.
var renewScript = redis.NewScript(`
if redis.call('HGET', KEYS[2], 'run') ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
return 1
`)

// ackScript: KEYS due, job; ARGV id, token, tombstone TTL (ms). The
// tombstone x keeps the token of the live lease (the acker's, or that of
// the holder that took the lease over), so that a later ack under another
// token is known stale. Returns 0 for an ack repeated under the
// tombstone's token, 2 for a stale one (another holder had the lease, or
// acked before under its own), 1 otherwise.
var ackScript = redis.NewScript(`
local f = redis.call('HMGET', KEYS[2], 'x', 'run')
if f[1] then
  if f[1] == ARGV[2] then return 0 end
  return 2
end
local r, keep = 1, ARGV[2]
if f[2] and f[2] ~= ARGV[2] then r, keep = 2, f[2] end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'x', keep)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('ZREM', KEYS[1], ARGV[1])
return r
`)

// releaseScript: KEYS due, job; ARGV id, token, at.
var releaseScript = redis.NewScript(`
if redis.call('HGET', KEYS[2], 'tok') ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], 'run')
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
return 1
`)

// giveUpScript: KEYS due, job, dead; ARGV id, token, now, the dead list's
// cap.
var giveUpScript = redis.NewScript(`
if redis.call('HGET', KEYS[2], 'tok') ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[4]) + 1))
return 1
`)

// extendScript: KEYS due; ARGV until, then the ids. ZADD XX GT (Redis
// 6.2) moves an entry's score only forward, and adds no id.
var extendScript = redis.NewScript(`
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', 'GT', ARGV[1], ARGV[i])
end
return 0
`)
