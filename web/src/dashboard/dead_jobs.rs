//! The dashboard's buttons: retry or delete one dead job, or every dead job of a queue.
//! Each answers 303 to the page, which tells what was done.

use poem::web::{Data, Path, Redirect};
use poem::{Request, Response, handler};
use shared::dead_jobs;
use shared::queue::{JobQueue, QueueName};

use super::failure::{PageError, respond};
use super::{access, urls};
use crate::state::AppState;

fn queue<'a>(state: &'a AppState, name: &str) -> Result<&'a JobQueue, PageError> {
    let name: QueueName = name
        .parse()
        .map_err(|_| PageError::NoQueue(name.to_owned()))?;
    Ok(state.queues.get(name))
}

#[handler]
pub async fn retry(
    request: &Request,
    Path((queue_name, id)): Path<(String, String)>,
    Data(state): Data<&AppState>,
) -> Response {
    respond(
        async {
            access::authorize_change(request, state.web.admin_api_key.as_ref())?;
            let queue = queue(state, &queue_name)?;
            if !queue.retry_dead(&id).await? {
                return Err(not_found(queue, &id));
            }
            tracing::info!(
                queue = queue_name,
                job_id = id,
                "dead job retried from the dashboard"
            );
            Ok(Redirect::see_other(urls::after_change("retried", 1)))
        }
        .await,
    )
}

#[handler]
pub async fn delete(
    request: &Request,
    Path((queue_name, id)): Path<(String, String)>,
    Data(state): Data<&AppState>,
) -> Response {
    respond(
        async {
            access::authorize_change(request, state.web.admin_api_key.as_ref())?;
            let queue = queue(state, &queue_name)?;
            if !dead_jobs::delete(&state.db, queue, &id).await? {
                return Err(not_found(queue, &id));
            }
            tracing::info!(
                queue = queue_name,
                job_id = id,
                "dead job deleted from the dashboard"
            );
            Ok(Redirect::see_other(urls::after_change("deleted", 1)))
        }
        .await,
    )
}

#[handler]
pub async fn retry_all(
    request: &Request,
    Path(queue_name): Path<String>,
    Data(state): Data<&AppState>,
) -> Response {
    respond(
        async {
            access::authorize_change(request, state.web.admin_api_key.as_ref())?;
            let queue = queue(state, &queue_name)?;
            let retried = queue.retry_all_dead().await?;
            tracing::info!(
                queue = queue_name,
                retried,
                "dead jobs retried from the dashboard"
            );
            Ok(Redirect::see_other(urls::after_change("retried", retried)))
        }
        .await,
    )
}

#[handler]
pub async fn delete_all(
    request: &Request,
    Path(queue_name): Path<String>,
    Data(state): Data<&AppState>,
) -> Response {
    respond(
        async {
            access::authorize_change(request, state.web.admin_api_key.as_ref())?;
            let queue = queue(state, &queue_name)?;
            let deleted = dead_jobs::delete_all(&state.db, queue).await?;
            tracing::info!(
                queue = queue_name,
                deleted,
                "dead jobs deleted from the dashboard"
            );
            Ok(Redirect::see_other(urls::after_change("deleted", deleted)))
        }
        .await,
    )
}

fn not_found(queue: &JobQueue, id: &str) -> PageError {
    PageError::NoDeadJob {
        queue: queue.name().as_str(),
        id: id.to_owned(),
    }
}
