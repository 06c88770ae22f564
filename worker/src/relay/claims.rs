//! Which worker relays a publication: every worker receives it, exactly one enqueues it.
//!
//! The copy number from [`Occurrences`] and the digest name the publication alike in every
//! worker; the first `SET NX` on that name wins. So a publication is relayed once however
//! many workers listen, and the same JSON published twice is relayed twice, as Rails would
//! deliver it twice. The own-publication mark is checked in the same script.

use std::time::{Duration, Instant};

use redis::Script;
use shared::queue::RedisConnection;

use super::keys::{RelayKeys, message_digest};
use super::occurrences::Occurrences;

/// How long copies are counted and claims kept.
const WINDOW: Duration = Duration::from_secs(60);

/// KEYS: own mark, seen key, sequence. ARGV: the claim's lifetime (s).
/// Returns 0 for an own publication, -1 when another worker claimed it, else a new
/// sequence number.
const CLAIM: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return -1 end
return redis.call('INCR', KEYS[3])
";

#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// This worker relays it, with this delivery id (negative: never a message id).
    Won { delivery_id: i64 },
    /// Another worker relays it.
    TakenByAnother,
    /// A worker published it: the broadcast that published it serves API Gateway itself.
    OwnPublication,
}

pub struct RelayClaims {
    redis: RedisConnection,
    keys: RelayKeys,
    occurrences: Occurrences,
    script: Script,
}

impl RelayClaims {
    pub fn new(redis: RedisConnection, queue_prefix: &str) -> Self {
        Self {
            redis,
            keys: RelayKeys::new(queue_prefix),
            occurrences: Occurrences::new(WINDOW),
            script: Script::new(CLAIM),
        }
    }

    /// Counts this arrival of `payload` on `stream`, then tries to claim it. Every arrival
    /// must come through here, claimed or not, so that the counts stay alike.
    pub async fn claim(&mut self, stream: &str, payload: &[u8]) -> redis::RedisResult<Claim> {
        let digest = message_digest(stream, payload);
        let occurrence = self.occurrences.record(&digest, Instant::now());
        let answer: i64 = self
            .script
            .key(self.keys.own(&digest))
            .key(self.keys.seen(&digest, occurrence))
            .key(self.keys.sequence())
            .arg(WINDOW.as_secs())
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(match answer {
            0 => Claim::OwnPublication,
            -1 => Claim::TakenByAnother,
            sequence => Claim::Won {
                delivery_id: -sequence,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use shared::queue::slot::hash_slot;

    use super::*;

    #[test]
    fn the_claim_touches_one_hash_slot() {
        // KEYS as `claim` passes them; the script calls nothing else.
        let keys = RelayKeys::new("wsgw");
        let digest = message_digest("all_channel", b"{}");
        let given = [keys.own(&digest), keys.seen(&digest, 3), keys.sequence()];
        assert_eq!(CLAIM.matches("KEYS[").count(), 3);
        for key in &given {
            assert_eq!(hash_slot(key), hash_slot(&given[0]), "{key}");
        }
    }
}
