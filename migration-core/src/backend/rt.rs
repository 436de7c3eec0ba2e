//! The little the migrator needs from an async runtime, for tokio (feature
//! `runtime-tokio`, the default) or async-std (feature `runtime-async-std`).

use std::future::Future;
use std::time::Duration;

#[cfg(not(any(feature = "runtime-tokio", feature = "runtime-async-std")))]
compile_error!("enable one of the features runtime-tokio or runtime-async-std");

/// Waits `duration`, on whichever runtime is running this task: with both
/// features on (one build serving a tokio app and an async-std one), tokio's
/// timer where a tokio runtime is current, async-std's elsewhere.
pub(crate) async fn sleep(duration: Duration) {
    #[cfg(all(feature = "runtime-tokio", feature = "runtime-async-std"))]
    if tokio::runtime::Handle::try_current().is_err() {
        async_std::task::sleep(duration).await;
        return;
    }
    #[cfg(feature = "runtime-tokio")]
    tokio::time::sleep(duration).await;
    #[cfg(all(feature = "runtime-async-std", not(feature = "runtime-tokio")))]
    async_std::task::sleep(duration).await;
}

/// Runs `future` to completion on a new runtime (for the CLI's `main`).
#[cfg(feature = "cli")]
pub(crate) fn block_on<T>(future: impl Future<Output = T>) -> std::io::Result<T> {
    #[cfg(feature = "runtime-tokio")]
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(rt.block_on(future))
    }
    #[cfg(all(feature = "runtime-async-std", not(feature = "runtime-tokio")))]
    {
        Ok(async_std::task::block_on(future))
    }
}

/// Awaits `future`, logging `message` once if it takes longer than `after`.
pub(crate) async fn announce_if_slow<T>(
    future: impl Future<Output = T>,
    after: Duration,
    message: &str,
) -> T {
    use futures_util::future::{Either, select};
    let future = std::pin::pin!(future);
    let timer = std::pin::pin!(sleep(after));
    match select(future, timer).await {
        Either::Left((value, _)) => value,
        Either::Right(((), future)) => {
            tracing::info!("{message}");
            future.await
        }
    }
}
