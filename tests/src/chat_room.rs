//! Authenticated WebSocket clients of one stack, each counting the broadcasts it received
//! by body: for tests that must show that no message went missing while something broke.

use std::collections::HashMap;

use serde_json::json;

use crate::stack::Stack;
use crate::ws_client::WsClient;

pub struct ChatRoom {
    members: Vec<Member>,
}

struct Member {
    user: String,
    token: String,
    client: WsClient,
    /// Body → how many times it arrived.
    received: HashMap<String, usize>,
}

impl ChatRoom {
    /// One client per user, each connected through the emulator and authenticated.
    pub async fn join(stack: &Stack, users: &[&str]) -> Self {
        let mut members = Vec::new();
        for user in users {
            let token = stack.web.user_token(user).await;
            let client = stack.authenticated_client(&token).await;
            members.push(Member {
                user: (*user).to_owned(),
                token,
                client,
                received: HashMap::new(),
            });
        }
        Self { members }
    }

    /// Member `from` sends `body` to everyone; returns once `send_result` says success.
    pub async fn send(&mut self, from: usize, body: &str) {
        let member = &mut self.members[from];
        let frame = json!({"method": "send_message", "token": member.token,
            "channel": "all_channel", "body": body});
        let reply = member.client.request(&frame, "send_result").await;
        assert_eq!(reply["success"], true, "send_message {body}: {reply}");
    }

    /// Waits until every member got `body` (panics after the client's receive timeout).
    pub async fn delivered(&mut self, body: &str) {
        for member in &mut self.members {
            while !member.received.contains_key(body) {
                let frame = member.client.recv_action("send_message").await;
                for message in frame["messages"].as_array().into_iter().flatten() {
                    let text = message["body"].as_str().unwrap_or_default().to_owned();
                    *member.received.entry(text).or_default() += 1;
                }
            }
        }
    }

    /// `(user, body)` for every body of `sent` that a member never got.
    pub fn missing(&self, sent: &[String]) -> Vec<(String, String)> {
        let mut missing = Vec::new();
        for member in &self.members {
            for body in sent {
                if !member.received.contains_key(body) {
                    missing.push((member.user.clone(), body.clone()));
                }
            }
        }
        missing
    }

    /// Copies beyond the first, over every member and body (the same message id again is
    /// allowed after a failover; a missing one never is).
    pub fn duplicates(&self) -> usize {
        self.members
            .iter()
            .flat_map(|member| member.received.values())
            .map(|count| count - 1)
            .sum()
    }
}
