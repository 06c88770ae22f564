//! The relay's Redis keys on the queue's Redis, and the digest that names a published
//! message in them. One hash tag, so the claim script touches one slot on Redis Cluster.

use sha2::{Digest, Sha256};

/// Published message digests: the stream and the exact payload, SHA-256, hex.
pub fn message_digest(stream: &str, payload: &[u8]) -> String {
    let mut hasher = Sha256::new();
    // The length first: ("ab", "c…") and ("a", "bc…") must not meet.
    hasher.update((stream.len() as u64).to_be_bytes());
    hasher.update(stream.as_bytes());
    hasher.update(payload);
    hex::encode(hasher.finalize())
}

#[derive(Debug, Clone)]
pub struct RelayKeys {
    /// `{<QUEUE_PREFIX>:relay}`.
    base: String,
}

impl RelayKeys {
    pub fn new(queue_prefix: &str) -> Self {
        Self {
            base: format!("{{{queue_prefix}:relay}}"),
        }
    }

    /// Set by the worker that published this message itself, so no worker relays it back.
    pub fn own(&self, digest: &str) -> String {
        format!("{}:own:{digest}", self.base)
    }

    /// Set by the one worker that relays the `occurrence`-th copy of this message.
    pub fn seen(&self, digest: &str, occurrence: u32) -> String {
        format!("{}:seen:{digest}:{occurrence}", self.base)
    }

    /// The counter behind relayed messages' delivery ids.
    pub fn sequence(&self) -> String {
        format!("{}:seq", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_tells_streams_and_payloads_apart() {
        let digest = message_digest("all_channel", b"{}");
        assert_eq!(digest.len(), 64);
        assert_eq!(digest, message_digest("all_channel", b"{}"));
        assert_ne!(digest, message_digest("all_channel", b"{} "));
        assert_ne!(
            message_digest("ab", b"c"),
            message_digest("a", b"bc"),
            "the stream's length is part of it"
        );
    }

    #[test]
    fn every_key_shares_one_hash_tag() {
        let keys = RelayKeys::new("wsgw");
        for key in [keys.own("d"), keys.seen("d", 2), keys.sequence()] {
            assert!(key.starts_with("{wsgw:relay}:"), "{key}");
        }
        assert_eq!(keys.seen("d", 2), "{wsgw:relay}:seen:d:2");
    }
}
