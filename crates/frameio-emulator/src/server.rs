//! The listener: one HTTP/1.1 server on 127.0.0.1, connections served with
//! hyper directly so that a fault can drop a connection without answering
//! (axum handlers cannot). Requests go through [`dispatch`], which applies
//! the connection-level faults (`cut_part`, `slow`) around the axum router.

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::Router;
use futures::StreamExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::state::Shared;
use crate::{api, ims, upload};

/// How long open connections get to finish when the emulator stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// The error that makes hyper close a connection without an answer.
#[derive(Debug)]
struct CutConnection;

impl fmt::Display for CutConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection cut by an injected fault")
    }
}

impl Error for CutConnection {}

/// Every route the emulator serves.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let fallback_shared = shared.clone();
    api::routes(shared.clone())
        .route("/ims/authorize/v2", get(ims::authorize))
        .route("/ims/token/v3", post(ims::token))
        .route("/ims/revoke", post(ims::revoke))
        .route("/upload/{file_id}/{part}", put(upload::put_part))
        .route("/view/{id}", get(api::view))
        .fallback(move |request: Request<Body>| {
            let shared = fallback_shared.clone();
            async move {
                if request.uri().path().starts_with("/v4/") {
                    api::unknown_route(&shared)
                } else {
                    (StatusCode::NOT_FOUND, "not found").into_response()
                }
            }
        })
        .with_state(shared)
}

/// Accepts connections until `shutdown` turns true (or its sender is gone).
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = stopped(&mut shutdown) => break,
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let router = router.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let service =
                service_fn(move |request| dispatch(shared.clone(), router.clone(), request));
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended");
                    }
                }
                () = stopped(&mut shutdown) => {
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
                }
            }
        });
    }
    tracing::debug!("emulator stopped accepting connections");
}

/// Resolves once the emulator is told to stop (or its handle is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: drop it right here.
    let _ = shutdown.wait_for(|stop| *stop).await.map(|_| ());
}

/// One request: a pending `cut_part` fault drops the connection after part
/// of the body; otherwise the router answers, delayed by `slow`.
async fn dispatch(
    shared: Arc<Shared>,
    router: Router,
    request: Request<Incoming>,
) -> Result<Response<Body>, CutConnection> {
    if let Some(index) = upload::part_index_of(request.method(), request.uri().path()) {
        if shared.faults.take_cut(index) {
            {
                let mut state = shared.lock();
                state.stats.count_request(crate::config::RouteClass::Upload);
                state.stats.parts_cut += 1;
                state.stats.part_put_failures += 1;
            }
            read_some(request).await;
            tracing::debug!(index, "cutting the connection of a part upload");
            return Err(CutConnection);
        }
    }
    let response = match router.oneshot(request.map(Body::new)).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let delay = shared.faults.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    Ok(response)
}

/// Reads about half of a request body (at least one chunk), then gives up.
async fn read_some(request: Request<Incoming>) {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let mut stream = Body::new(request.into_body()).into_data_stream();
    let mut read = 0u64;
    while let Some(Ok(chunk)) = stream.next().await {
        read += chunk.len() as u64;
        if read * 2 >= declared {
            break;
        }
    }
}
