//! The queue's state changes, each one atomic Lua script over the keys of `QueueKeys::all`.
//!
//! KEYS: 1 jobs, 2 waiting, 3 scheduled, 4 running, 5 failed, 6 dead, 7 done, 8 attempts,
//! 9 errors, 10 owners, 11 wakeup, 12 stats, 13 groups, 14 group_sizes.
//!
//! Groups: a job may belong to a group (the broadcast of one message and its parts). A group
//! is live while any of its jobs is not done: dead jobs keep it live until an operator
//! retries them or the dead set's retention drops them. Pushes can be made conditional on
//! the group not being live, which makes re-enqueueing an outbox entry safe from any number
//! of workers at once.

use std::sync::LazyLock;

use redis::Script;

/// Wakes up to `n` idle workers; the list is capped so it cannot grow while none listen.
const WAKE: &str = r#"
local function wake(n)
  for _ = 1, math.min(n, 64) do redis.call('LPUSH', KEYS[11], '1') end
  redis.call('LTRIM', KEYS[11], 0, 63)
end
"#;

/// Ends `owner`'s lease on job `id` (ARGV[1], ARGV[2]) before it is settled. False when the
/// lease was lost: another worker owns the job now, and this settle must change nothing.
const SETTLE_LEASE: &str = r#"
local function settle_lease(id, owner)
  if redis.call('HGET', KEYS[10], id) ~= owner then return false end
  redis.call('ZREM', KEYS[4], id)
  redis.call('HDEL', KEYS[10], id)
  return true
end
"#;

/// Takes job `id` out of its group. Returns the group when that was its last live job.
const LEAVE_GROUP: &str = r#"
local function leave_group(id)
  local group = redis.call('HGET', KEYS[13], id)
  if not group then return false end
  redis.call('HDEL', KEYS[13], id)
  if redis.call('HINCRBY', KEYS[14], group, -1) <= 0 then
    redis.call('HDEL', KEYS[14], group)
    return group
  end
  return false
end
"#;

/// Keeps the dead set at its retention, dropping the oldest with their payloads.
const TRIM_DEAD: &str = r#"
local function trim_dead(keep)
  local excess = redis.call('ZCARD', KEYS[6]) - keep
  while excess > 0 do
    local oldest = redis.call('ZRANGE', KEYS[6], 0, math.min(excess, 500) - 1)
    redis.call('ZREM', KEYS[6], unpack(oldest))
    redis.call('HDEL', KEYS[1], unpack(oldest))
    redis.call('HDEL', KEYS[8], unpack(oldest))
    redis.call('HDEL', KEYS[9], unpack(oldest))
    for _, id in ipairs(oldest) do leave_group(id) end
    excess = excess - #oldest
  end
end
"#;

/// ARGV: now_ms, mode, then (id, payload, due_ms, group) quadruples; due ≤ now runs at once,
/// an empty group is none. Mode `always` pushes every job; `unless_live` skips a job whose
/// group is live. Returns 1 (pushed) or 0 (skipped) per job.
pub static PUSH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{WAKE}{}",
        r#"
local now = tonumber(ARGV[1])
local unless_live = ARGV[2] == 'unless_live'
local pushed, flags = 0, {}
for i = 3, #ARGV, 4 do
  local id, payload, due, group = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  if unless_live and group ~= '' and redis.call('HEXISTS', KEYS[14], group) == 1 then
    table.insert(flags, 0)
  else
    redis.call('HSET', KEYS[1], id, payload)
    if due > now then
      redis.call('ZADD', KEYS[3], due, id)
    else
      redis.call('LPUSH', KEYS[2], id)
    end
    if group ~= '' then
      redis.call('HSET', KEYS[13], id, group)
      redis.call('HINCRBY', KEYS[14], group, 1)
    end
    pushed = pushed + 1
    table.insert(flags, 1)
  end
end
redis.call('HINCRBY', KEYS[12], 'pushed', pushed)
wake(pushed)
return flags
"#
    ))
});

/// ARGV: now_ms, lease_ms, max_claims, owner, max_attempts, dead_retention.
/// Promotes due work in bounded chunks (apalis-redis 1.0 unpacked every due id at once and
/// crashed past ~8,000), returns orphaned leases to the front, then claims. A job about to be
/// claimed more than max_attempts times is buried instead (`ClaimPolicy::retries_after`
/// holds the same rule for settling).
/// Returns a flat list of (id, payload, attempts).
pub static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{LEAVE_GROUP}{TRIM_DEAD}{}",
        r#"
local now = tonumber(ARGV[1])
for _, source in ipairs({KEYS[3], KEYS[5]}) do
  local due = redis.call('ZRANGEBYSCORE', source, '-inf', now, 'LIMIT', 0, 500)
  if #due > 0 then
    redis.call('ZREM', source, unpack(due))
    redis.call('LPUSH', KEYS[2], unpack(due))
  end
end
local orphans = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(orphans) do
  redis.call('ZREM', KEYS[4], id)
  redis.call('HDEL', KEYS[10], id)
  redis.call('RPUSH', KEYS[2], id)
end
if #orphans > 0 then redis.call('HINCRBY', KEYS[12], 'recovered', #orphans) end
local claimed = {}
local buried = 0
while #claimed < tonumber(ARGV[3]) * 3 do
  local id = redis.call('RPOP', KEYS[2])
  if not id then break end
  local payload = redis.call('HGET', KEYS[1], id)
  if payload then
    local attempts = redis.call('HINCRBY', KEYS[8], id, 1)
    if attempts > tonumber(ARGV[5]) then
      redis.call('ZADD', KEYS[6], now, id)
      redis.call('HSET', KEYS[9], id, 'gave up after ' .. (attempts - 1) .. ' attempts')
      buried = buried + 1
    else
      redis.call('ZADD', KEYS[4], now + tonumber(ARGV[2]), id)
      redis.call('HSET', KEYS[10], id, ARGV[4])
      table.insert(claimed, id)
      table.insert(claimed, payload)
      table.insert(claimed, attempts)
    end
  end
end
if buried > 0 then
  redis.call('HINCRBY', KEYS[12], 'dead', buried)
  trim_dead(tonumber(ARGV[6]))
end
return claimed
"#
    ))
});

/// ARGV: id, owner, now_ms, done_retention. Returns {0, nil} when the lease was lost,
/// {1, nil} when acknowledged, {1, group} when this was the last live job of its group.
pub static ACK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{SETTLE_LEASE}{LEAVE_GROUP}{}",
        r#"
local id = ARGV[1]
if not settle_lease(id, ARGV[2]) then return {0, false} end
local payload = redis.call('HGET', KEYS[1], id)
local attempts = redis.call('HGET', KEYS[8], id) or '0'
redis.call('HDEL', KEYS[1], id)
redis.call('HDEL', KEYS[8], id)
redis.call('HDEL', KEYS[9], id)
local keep = tonumber(ARGV[4])
if keep > 0 and payload then
  redis.call('LPUSH', KEYS[7], '{"id":"' .. id .. '","finished_at_ms":' .. ARGV[3] ..
    ',"attempts":' .. attempts .. ',"job":' .. payload .. '}')
  redis.call('LTRIM', KEYS[7], 0, keep - 1)
end
redis.call('HINCRBY', KEYS[12], 'done', 1)
-- false becomes nil in the reply
return {1, leave_group(id)}
"#
    ))
});

/// ARGV: id, owner, retry_at_ms, error. Returns 0 when the lease was lost.
pub static RETRY_LATER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{SETTLE_LEASE}{}",
        r#"
local id = ARGV[1]
if not settle_lease(id, ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[5], tonumber(ARGV[3]), id)
redis.call('HSET', KEYS[9], id, ARGV[4])
redis.call('HINCRBY', KEYS[12], 'failed', 1)
return 1
"#
    ))
});

/// ARGV: id, owner, now_ms, error, dead_retention. Returns 0 when the lease was lost.
pub static BURY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{SETTLE_LEASE}{LEAVE_GROUP}{TRIM_DEAD}{}",
        r#"
local id = ARGV[1]
if not settle_lease(id, ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[6], tonumber(ARGV[3]), id)
redis.call('HSET', KEYS[9], id, ARGV[4])
redis.call('HINCRBY', KEYS[12], 'dead', 1)
trim_dead(tonumber(ARGV[5]))
return 1
"#
    ))
});

/// ARGV: deadline_ms, then (id, owner) pairs. Renews the leases still held.
pub static EXTEND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local renewed = 0
for i = 2, #ARGV, 2 do
  if redis.call('HGET', KEYS[10], ARGV[i]) == ARGV[i + 1] then
    redis.call('ZADD', KEYS[4], 'XX', tonumber(ARGV[1]), ARGV[i])
    renewed = renewed + 1
  end
end
return renewed
"#,
    )
});

/// ARGV: id, owner. Hands a claimed job back to the front of the queue on shutdown; the
/// claim does not count as an attempt.
pub static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{SETTLE_LEASE}{WAKE}{}",
        r#"
local id = ARGV[1]
if not settle_lease(id, ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[8], id, -1)
redis.call('RPUSH', KEYS[2], id)
redis.call('HINCRBY', KEYS[12], 'released', 1)
wake(1)
return 1
"#
    ))
});

/// ARGV: id. Moves a dead job back to waiting with a fresh attempt count.
pub static RETRY_DEAD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{WAKE}{}",
        r#"
local id = ARGV[1]
if redis.call('ZREM', KEYS[6], id) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], id) == 0 then return 0 end
redis.call('HDEL', KEYS[8], id)
redis.call('HDEL', KEYS[9], id)
redis.call('LPUSH', KEYS[2], id)
wake(1)
return 1
"#
    ))
});

/// ARGV: id. Drops a dead job and its payload for good. Returns {0, nil} when no dead job
/// has that id, {1, nil} when dropped, {1, group} when it was the last live job of its group.
pub static DELETE_DEAD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{LEAVE_GROUP}{}",
        r#"
local id = ARGV[1]
if redis.call('ZREM', KEYS[6], id) == 0 then return {0, false} end
redis.call('HDEL', KEYS[1], id)
redis.call('HDEL', KEYS[8], id)
redis.call('HDEL', KEYS[9], id)
-- false becomes nil in the reply
return {1, leave_group(id)}
"#
    ))
});
