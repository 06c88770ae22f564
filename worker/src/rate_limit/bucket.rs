//! The token bucket every worker of a deployment draws from: one Redis hash, changed only by
//! one Lua script, so taking permits and cutting the rate are atomic across workers.
//!
//! The hash `{<QUEUE_PREFIX>:apigw-rate}` (one hash tag: one slot on Redis Cluster) holds
//! `tokens`, `at` (ms of the last refill), `rate` (permits/s now, at most the limit),
//! `cut_at` (ms of the last cut) and `w:<worker id>` (ms a worker last drew). Time is Redis'
//! own (`TIME`), so workers on machines with skewed clocks agree.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use shared::queue::RedisConnection;

/// ARGV: 1 op (`take` | `throttled`), 2 limit (permits/s), 3 want, 4 worker id, 5 burst (ms
/// of the rate the bucket holds), 6 increase (permits/s gained per second), 7 cut factor,
/// 8 cooldown (ms), 9 floor (permits/s), 10 key lifetime (ms).
///
/// Returns {granted, wait ms, rate, workers seen lately, 1 when this call cut the rate}.
static SCRIPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local op, limit, want, worker = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local burst, increase, factor = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local cooldown, floor, lifetime = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'rate', 'cut_at')
local rate = tonumber(state[3]) or limit
local at = tonumber(state[2]) or now
local cut_at = tonumber(state[4]) or 0
-- Additive increase: the rate climbs back once a cooldown passed without a cut.
local climb_from = math.max(at, cut_at + cooldown)
if now > climb_from then rate = rate + increase * (now - climb_from) / 1000 end
rate = math.min(math.max(rate, floor), limit)
local capacity = math.max(rate * burst / 1000, want)
local tokens = tonumber(state[1]) or capacity
tokens = math.min(capacity, tokens + rate * math.max(0, now - at) / 1000)
local granted, wait, cut = 0, 0, 0
if op == 'throttled' then
  -- Multiplicative decrease, once per cooldown: the 429s of calls already on the wire
  -- report the same excess.
  if now - cut_at >= cooldown then
    rate = math.max(floor, rate * factor)
    cut_at = now
    tokens = math.min(tokens, 0)
    cut = 1
  end
elseif tokens >= want then
  granted = want
  tokens = tokens - want
else
  wait = math.ceil((want - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now, 'rate', rate, 'cut_at', cut_at,
  'w:' .. worker, now)
local workers, fields = 0, redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  if string.sub(fields[i], 1, 2) == 'w:' then
    if now - tonumber(fields[i + 1]) > lifetime then
      redis.call('HDEL', KEYS[1], fields[i])
    else
      workers = workers + 1
    end
  end
end
redis.call('PEXPIRE', KEYS[1], lifetime)
return {granted, wait, math.floor(rate), workers, cut}
",
    )
});

/// How the shared rate moves.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// The bucket holds this much of the rate: the largest burst above it.
    pub burst: Duration,
    /// Permits/s regained per second without throttling, as a fraction of the limit.
    pub increase: f64,
    /// A 429 multiplies the rate by this.
    pub cut_factor: f64,
    /// At most one cut per cooldown; the climb starts once it passed.
    pub cooldown: Duration,
    /// The rate never falls below this fraction of the limit.
    pub floor: f64,
    /// A worker that drew nothing for this long is no longer counted; an untouched bucket
    /// disappears after it.
    pub lifetime: Duration,
}

impl Tuning {
    pub const PRODUCTION: Self = Self {
        burst: Duration::from_millis(50),
        increase: 0.05,
        cut_factor: 0.5,
        cooldown: Duration::from_millis(500),
        floor: 0.02,
        lifetime: Duration::from_secs(60),
    };
}

/// What one draw from the bucket came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draw {
    pub granted: u32,
    /// When nothing was granted: how long until `want` permits are there.
    pub wait: Duration,
    /// The deployment's rate now (permits/s).
    pub rate: u32,
    /// Workers that drew lately, this one included.
    pub workers: u32,
    /// This call cut the rate.
    pub cut: bool,
}

#[derive(Clone)]
pub struct SharedBucket {
    redis: RedisConnection,
    key: String,
    worker_id: String,
    limit: u32,
    tuning: Tuning,
}

impl SharedBucket {
    pub fn new(
        redis: RedisConnection,
        queue_prefix: &str,
        worker_id: &str,
        limit: u32,
        tuning: Tuning,
    ) -> Self {
        Self {
            redis,
            key: format!("{{{queue_prefix}:apigw-rate}}"),
            worker_id: worker_id.to_owned(),
            limit,
            tuning,
        }
    }

    /// Takes `want` permits, all or none.
    pub async fn take(&self, want: u32) -> redis::RedisResult<Draw> {
        self.run("take", want).await
    }

    /// Reports a 429: the rate is cut, unless another report did so within the cooldown.
    pub async fn throttled(&self) -> redis::RedisResult<Draw> {
        self.run("throttled", 0).await
    }

    async fn run(&self, op: &str, want: u32) -> redis::RedisResult<Draw> {
        let tuning = &self.tuning;
        let limit = f64::from(self.limit);
        let (granted, wait_ms, rate, workers, cut): (u32, u64, u32, u32, u8) = SCRIPT
            .key(&self.key)
            .arg(op)
            .arg(self.limit)
            .arg(want)
            .arg(&self.worker_id)
            .arg(tuning.burst.as_millis() as u64)
            .arg(limit * tuning.increase)
            .arg(tuning.cut_factor)
            .arg(tuning.cooldown.as_millis() as u64)
            .arg((limit * tuning.floor).max(1.0))
            .arg(tuning.lifetime.as_millis() as u64)
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(Draw {
            granted,
            wait: Duration::from_millis(wait_ms),
            rate,
            workers,
            cut: cut == 1,
        })
    }
}
