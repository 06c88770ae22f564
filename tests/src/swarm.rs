//! Many real WebSocket clients of one user, each authenticated through the emulator and
//! counting every copy of every message it receives, so a test can say per connection what
//! arrived after a fault.

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

/// Copies of each message id, per client.
type Received = Arc<Mutex<Vec<HashMap<i64, u32>>>>;

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
        let received: Received = Arc::new(Mutex::new(vec![HashMap::new(); count]));
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
            .map(|by_id| by_id.get(&message_id).copied().unwrap_or(0))
            .collect()
    }

    /// Every copy of every message, over all clients.
    pub fn total_received(&self) -> u64 {
        lock(&self.received)
            .iter()
            .flat_map(|by_id| by_id.values())
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

/// Counts every message of every `send_message` frame client `index` receives.
async fn listen(index: usize, mut client: WsClient, received: Received) {
    while let Ok(frame) = client.next_frame().await {
        if frame["action"] != "send_message" {
            continue;
        }
        let ids = frame["messages"].as_array().cloned().unwrap_or_default();
        let mut received = lock(&received);
        for id in ids.iter().filter_map(|message| message["id"].as_i64()) {
            *received[index].entry(id).or_default() += 1;
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

fn lock(received: &Received) -> std::sync::MutexGuard<'_, Vec<HashMap<i64, u32>>> {
    received
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
