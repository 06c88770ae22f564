//! `GET /admin`: reads everything the page shows.

use poem::web::{Data, Html, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;
use shared::queries::connections;
use shared::queue::QueueName;
use shared::recent_broadcasts::RecentBroadcasts;

use super::access;
use super::failure::{PageError, respond};
use super::history::{QueueHistory, take_sample};
use super::view::{self, Overview};
use crate::state::AppState;

/// Dead jobs and broadcasts shown per table.
const ROWS: usize = 50;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Reload every this many seconds.
    poll: Option<u64>,
    /// How many jobs the last change retried or deleted.
    retried: Option<usize>,
    deleted: Option<usize>,
}

#[handler]
pub async fn show(
    request: &Request,
    query: Result<Query<PageQuery>, poem::Error>,
    Data(state): Data<&AppState>,
    Data(history): Data<&QueueHistory>,
) -> Response {
    respond(read(request, query, state, history).await)
}

async fn read(
    request: &Request,
    query: Result<Query<PageQuery>, poem::Error>,
    state: &AppState,
    history: &QueueHistory,
) -> Result<Html<String>, PageError> {
    access::authorize(request, state.web.admin_api_key.as_ref())?;
    let Query(query) = query.map_err(|error| PageError::BadRequest(error.to_string()))?;
    let poll_secs = match query.poll {
        Some(secs @ 1..=3_600) => Some(secs),
        Some(other) => {
            return Err(PageError::BadRequest(format!(
                "poll={other}: give 1 to 3600 seconds"
            )));
        }
        None => None,
    };
    let notice = match (query.retried, query.deleted) {
        (Some(count), _) => Some(format!("Retried {count} dead job(s).")),
        (_, Some(count)) => Some(format!("Deleted {count} dead job(s).")),
        _ => None,
    };
    let mut dead = Vec::new();
    for queue in QueueName::ALL {
        dead.push((queue, state.queues.get(queue).newest_dead_jobs(ROWS).await?));
    }
    let overview = Overview {
        history: history.samples(),
        now: take_sample(&state.queues).await?,
        dead,
        connections: connections::live(&state.db).await?,
        cable_sockets: state.cable.open_sockets(),
        broadcasts: RecentBroadcasts::new(state.redis.clone(), &state.common.queue_prefix)
            .newest(ROWS as isize)
            .await?,
        notice,
        poll_secs,
    };
    Ok(Html(view::page(&overview).into_string()))
}
