//! Redis Cluster's hash slot of a key, as the cluster computes it: CRC16 (XMODEM) of the
//! key's hash tag (the part between the first `{` and the next `}`, when not empty) or of
//! the whole key, modulo 16384. A script or a MULTI whose keys fall in two slots fails on a
//! cluster with CROSSSLOT, so tests check every script's keys with this.

pub const SLOTS: u16 = 16_384;

pub fn hash_slot(key: &str) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(hash_tag(key.as_bytes())) % SLOTS
}

fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&byte| byte == b'{')
        && let Some(length) = key[open + 1..].iter().position(|&byte| byte == b'}')
        && length > 0
    {
        return &key[open + 1..open + 1 + length];
    }
    key
}

#[cfg(test)]
mod tests {
    use super::hash_slot;

    #[test]
    fn slots_match_the_cluster_specification() {
        // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
        assert_eq!(hash_slot("123456789"), 0x31C3);
        assert_eq!(hash_slot("foo"), 12182);
        assert_eq!(hash_slot("{user1000}.following"), hash_slot("user1000"));
        assert_eq!(hash_slot("foo{}{bar}"), hash_slot("foo{}{bar}"));
        assert_ne!(
            hash_slot("foo{}{bar}"),
            hash_slot("bar"),
            "an empty tag is no tag"
        );
        assert_eq!(hash_slot("foo{{bar}}zap"), hash_slot("{bar"));
    }
}
