//! Many real WebSocket clients of one user, each authenticated through the emulator and
//! counting every copy of every message it receives (and of every frame, byte for byte), so
//! a test can say per connection what arrived after a fault.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use sea_orm::DatabaseConnection;
use shared::entities::users;
use shared::queries::tokens;
use tokio::task::JoinHandle;

use crate::stack::Stack;
use crate::wait_until;
use crate::ws_client::WsClient;

/// Clients connecting and authenticating at once while a swarm forms.
const JOINING_AT_ONCE: usize = 64;

/// What each client received.
type Received = Arc<Mutex<Vec<Seen>>>;

#[derive(Debug, Default, Clone)]
struct Seen {
    /// Copies of each message id of `send_message` frames.
    by_id: HashMap<i64, u32>,
    /// Copies of each text frame, exactly as it arrived.
    by_text: HashMap<String, u32>,
}

pub struct Swarm {
    received: Received,
    readers: Vec<JoinHandle<()>>,
}

impl Swarm {
    /// `count` clients of `user`, each with its own token, authenticated and listening.
    pub async fn join(
        stack: &Stack,
        db: &DatabaseConnection,
        user: &users::Model,
        count: usize,
    ) -> Self {
        let received: Received = Arc::new(Mutex::new(vec![Seen::default(); count]));
        let mut codes = Vec::with_capacity(count);
        for _ in 0..count {
            let token = tokens::issue(db, Some(user.id)).await.expect("a token");
            codes.push(token.code);
        }
        let clients: Vec<(usize, WsClient)> = futures::stream::iter(codes.into_iter().enumerate())
            .map(|(index, code)| async move { (index, stack.authenticated_client(&code).await) })
            .buffer_unordered(JOINING_AT_ONCE)
            .collect()
            .await;
        let readers = clients
            .into_iter()
            .map(|(index, client)| tokio::spawn(listen(index, client, received.clone())))
            .collect();
        Self { received, readers }
    }

    pub fn len(&self) -> usize {
        self.readers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.readers.is_empty()
    }

    /// Copies of `message_id` each client received, in client order.
    pub fn copies(&self, message_id: i64) -> Vec<u32> {
        lock(&self.received)
            .iter()
            .map(|seen| seen.by_id.get(&message_id).copied().unwrap_or(0))
            .collect()
    }

    /// Copies of the text frame `text` (byte for byte) each client received, in client order.
    pub fn text_copies(&self, text: &str) -> Vec<u32> {
        lock(&self.received)
            .iter()
            .map(|seen| seen.by_text.get(text).copied().unwrap_or(0))
            .collect()
    }

    /// Every distinct text frame any client received that is not one of `expected`.
    pub fn other_texts(&self, expected: &[&str]) -> Vec<String> {
        let mut others: Vec<String> = lock(&self.received)
            .iter()
            .flat_map(|seen| seen.by_text.keys())
            .filter(|text| !expected.contains(&text.as_str()))
            .cloned()
            .collect();
        others.sort();
        others.dedup();
        others
    }

    /// Waits until every client holds at least one copy of the text frame `text`.
    pub async fn wait_until_all_have_text(&self, text: &str, within: Duration) -> bool {
        wait_until(within, || async {
            self.text_copies(text).iter().all(|copies| *copies > 0)
        })
        .await
        .is_ok()
    }

    /// Every copy of every message, over all clients.
    pub fn total_received(&self) -> u64 {
        lock(&self.received)
            .iter()
            .flat_map(|seen| seen.by_id.values())
            .map(|copies| u64::from(*copies))
            .sum()
    }

    /// Waits until every client holds every one of `message_ids`.
    pub async fn wait_until_all_have(&self, message_ids: &[i64], within: Duration) -> bool {
        wait_until(within, || async {
            message_ids
                .iter()
                .all(|id| self.copies(*id).iter().all(|copies| *copies > 0))
        })
        .await
        .is_ok()
    }

    /// Per message: clients that never got it, and copies beyond the first.
    pub fn tally(&self, message_ids: &[i64]) -> Tally {
        let mut tally = Tally::default();
        for id in message_ids {
            for copies in self.copies(*id) {
                tally.missing += usize::from(copies == 0);
                tally.duplicates += copies.saturating_sub(1) as usize;
                tally.most_copies = tally.most_copies.max(copies);
            }
        }
        tally
    }
}

/// What a swarm received of some messages.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// (client, message) pairs with no copy.
    pub missing: usize,
    /// Copies beyond the first, summed over clients and messages.
    pub duplicates: usize,
    pub most_copies: u32,
}

/// Counts every frame client `index` receives, and every message of its `send_message`
/// frames.
async fn listen(index: usize, mut client: WsClient, received: Received) {
    while let Ok(text) = client.next_text().await {
        let frame: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let mut received = lock(&received);
        let seen = &mut received[index];
        *seen.by_text.entry(text).or_default() += 1;
        if frame["action"] != "send_message" {
            continue;
        }
        let ids = frame["messages"].as_array().cloned().unwrap_or_default();
        for id in ids.iter().filter_map(|message| message["id"].as_i64()) {
            *seen.by_id.entry(id).or_default() += 1;
        }
    }
}

impl Drop for Swarm {
    fn drop(&mut self) {
        for reader in &self.readers {
            reader.abort();
        }
    }
}

fn lock(received: &Received) -> std::sync::MutexGuard<'_, Vec<Seen>> {
    received
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
