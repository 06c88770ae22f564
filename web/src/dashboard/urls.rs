//! The dashboard's form targets, built in one place so the page and the routes agree.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use shared::queue::QueueName;

/// `/admin/queues/<queue>/dead/<id>/<action>`.
pub fn one(queue: QueueName, id: &str, action: &str) -> String {
    let id = utf8_percent_encode(id, NON_ALPHANUMERIC);
    format!("/admin/queues/{}/dead/{id}/{action}", queue.as_str())
}

/// `/admin/queues/<queue>/dead/<action>-all`.
pub fn all(queue: QueueName, action: &str) -> String {
    format!("/admin/queues/{}/dead/{action}-all", queue.as_str())
}

/// The page, telling what a change did.
pub fn after_change(verb: &str, count: u64) -> String {
    format!("/admin?{verb}={count}")
}
