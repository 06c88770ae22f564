//! Redis keys of one queue. All share one hash tag, so the scripts work on Redis Cluster.

/// The keys, in the order every script receives them as `KEYS[1..=14]`.
#[derive(Debug, Clone)]
pub struct QueueKeys {
    /// HASH id → job JSON (`HGET <jobs> <id>` shows one job).
    pub jobs: String,
    /// LIST of ids ready to run; claimed from the right, so the oldest runs first.
    pub waiting: String,
    /// ZSET id → due time (ms): delayed jobs.
    pub scheduled: String,
    /// ZSET id → lease deadline (ms): claimed and running.
    pub running: String,
    /// ZSET id → retry time (ms): failed, waiting to be retried.
    pub failed: String,
    /// ZSET id → time of death (ms): gave up; kept for inspection and `retry-dead`.
    pub dead: String,
    /// LIST of the most recently finished jobs, capped at the retention.
    pub done: String,
    /// HASH id → claims so far.
    pub attempts: String,
    /// HASH id → last error.
    pub errors: String,
    /// HASH id → owner token of the claim that holds the lease.
    pub owners: String,
    /// LIST of wake-up tokens that idle workers block on.
    pub wakeup: String,
    /// HASH of counters: pushed, done, failed, dead, recovered, released.
    pub stats: String,
    /// HASH id → group, for jobs that belong to one (every part of one message's broadcast).
    pub groups: String,
    /// HASH group → jobs of it not yet done (waiting, scheduled, running, failed or dead).
    /// A group with no field here has no live job.
    pub group_sizes: String,
}

impl QueueKeys {
    pub fn new(prefix: &str, queue: &str) -> Self {
        let base = format!("{{{prefix}:{queue}}}");
        let key = |name: &str| format!("{base}:{name}");
        Self {
            jobs: key("jobs"),
            waiting: key("waiting"),
            scheduled: key("scheduled"),
            running: key("running"),
            failed: key("failed"),
            dead: key("dead"),
            done: key("done"),
            attempts: key("attempts"),
            errors: key("errors"),
            owners: key("owners"),
            wakeup: key("wakeup"),
            stats: key("stats"),
            groups: key("groups"),
            group_sizes: key("group_sizes"),
        }
    }

    pub fn all(&self) -> [&str; 14] {
        [
            &self.jobs,
            &self.waiting,
            &self.scheduled,
            &self.running,
            &self.failed,
            &self.dead,
            &self.done,
            &self.attempts,
            &self.errors,
            &self.owners,
            &self.wakeup,
            &self.stats,
            &self.groups,
            &self.group_sizes,
        ]
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_share_one_hash_tag() {
        let keys = super::QueueKeys::new("wsgw", "default");
        assert_eq!(keys.waiting, "{wsgw:default}:waiting");
        assert!(keys.all().iter().all(|k| k.starts_with("{wsgw:default}:")));
    }
}
