//! Token codes: 256 bits from the operating system's CSPRNG, hex-encoded.

/// A fresh, unguessable token code (64 hex characters).
pub fn new_token_code() -> String {
    let mut bytes = [0u8; 32];
    // The OS RNG failing leaves nothing safe to issue; this cannot be recovered from.
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_long_and_distinct() {
        let a = super::new_token_code();
        assert_eq!(a.len(), 64);
        assert_ne!(a, super::new_token_code());
    }
}
