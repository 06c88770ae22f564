//! The credentials the lean POST signs with: fetched from the SDK's provider chain (or the
//! emulator's fixed pair), kept, and fetched again before they expire.
//!
//! Every POST reads the cached identity (a lock held for an `Arc` clone). Once its refresh
//! time has passed, one POST fetches new credentials while the others wait for it; if the
//! fetch fails while the old credentials are still valid, those go on serving and the fetch
//! is tried again a little later, as the SDK's own identity cache does.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};

use super::describe;
use super::signer::SigningIdentity;

/// Credentials without an expiry are fetched again this often (the SDK's default).
const NO_EXPIRY_REFRESH: Duration = Duration::from_secs(15 * 60);
/// Expiring credentials are replaced this long before they expire (at most half their life).
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);
/// After a failed fetch with valid credentials in hand, the next try.
const RETRY_AFTER: Duration = Duration::from_secs(10);

pub(super) struct CredentialsCache {
    provider: SharedCredentialsProvider,
    current: RwLock<Option<Cached>>,
    /// One fetch at a time.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
struct Cached {
    identity: Arc<SigningIdentity>,
    refresh_at: SystemTime,
    expires_at: Option<SystemTime>,
}

impl CredentialsCache {
    pub fn new(provider: SharedCredentialsProvider) -> Self {
        Self {
            provider,
            current: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// The identity to sign with now; an error names why none could be had.
    pub async fn identity(&self) -> Result<Arc<SigningIdentity>, String> {
        if let Some(fresh) = self.fresh(SystemTime::now()) {
            return Ok(fresh);
        }
        let _fetching = self.fetching.lock().await;
        // Another POST may have fetched them while this one waited.
        let now = SystemTime::now();
        if let Some(fresh) = self.fresh(now) {
            return Ok(fresh);
        }
        match self.fetch(now).await {
            Ok(cached) => {
                let identity = cached.identity.clone();
                self.store(cached);
                Ok(identity)
            }
            Err(error) => self.keep_serving(now, error),
        }
    }

    fn fresh(&self, now: SystemTime) -> Option<Arc<SigningIdentity>> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        current
            .as_ref()
            .filter(|cached| now < cached.refresh_at)
            .map(|cached| cached.identity.clone())
    }

    fn store(&self, cached: Cached) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(cached);
    }

    async fn fetch(&self, now: SystemTime) -> Result<Cached, String> {
        let credentials = self
            .provider
            .provide_credentials()
            .await
            .map_err(|error| format!("no AWS credentials: {}", describe(&error)))?;
        let expires_at = credentials.expiry();
        let refresh_at = match expires_at {
            Some(expiry) => {
                let life = expiry.duration_since(now).unwrap_or_default();
                expiry - REFRESH_BEFORE_EXPIRY.min(life / 2)
            }
            None => now + NO_EXPIRY_REFRESH,
        };
        let identity = SigningIdentity::new(credentials).map_err(|error| error.to_string())?;
        tracing::debug!(
            ?expires_at,
            "AWS credentials fetched for the Management API"
        );
        Ok(Cached {
            identity: Arc::new(identity),
            refresh_at,
            expires_at,
        })
    }

    /// A fetch failed: credentials that are still valid serve until the next try.
    fn keep_serving(&self, now: SystemTime, error: String) -> Result<Arc<SigningIdentity>, String> {
        let current = self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let Some(cached) = current.filter(|cached| cached.expires_at.is_none_or(|at| now < at))
        else {
            return Err(error);
        };
        tracing::warn!(
            reason = %error,
            "could not refresh the AWS credentials; the current ones serve until they expire"
        );
        let identity = cached.identity.clone();
        self.store(Cached {
            refresh_at: now + RETRY_AFTER,
            ..cached
        });
        Ok(identity)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use aws_credential_types::Credentials;
    use aws_credential_types::provider::{error::CredentialsError, future};

    use super::*;

    /// Hands out credentials that expire `life` after the fetch, or fails when told to.
    #[derive(Debug)]
    struct Counting {
        fetches: AtomicUsize,
        life: Duration,
        failing: std::sync::atomic::AtomicBool,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst);
            if self.failing.load(Ordering::SeqCst) {
                return future::ProvideCredentials::ready(Err(CredentialsError::provider_error(
                    "down",
                )));
            }
            let expiry = SystemTime::now() + self.life;
            future::ProvideCredentials::ready(Ok(Credentials::new(
                format!("AKID{n}"),
                "secret",
                Some("token".into()),
                Some(expiry),
                "test",
            )))
        }
    }

    fn cache(life: Duration) -> (CredentialsCache, Arc<Counting>) {
        let provider = Arc::new(Counting {
            fetches: AtomicUsize::new(0),
            life,
            failing: Default::default(),
        });
        let shared = SharedCredentialsProvider::new(ArcProvider(provider.clone()));
        (CredentialsCache::new(shared), provider)
    }

    #[derive(Debug)]
    struct ArcProvider(Arc<Counting>);

    impl ProvideCredentials for ArcProvider {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.0.provide_credentials()
        }
    }

    #[tokio::test]
    async fn credentials_are_fetched_once_while_fresh() {
        let (cache, provider) = cache(Duration::from_secs(3600));
        for _ in 0..100 {
            cache.identity().await.unwrap();
        }
        assert_eq!(provider.fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn credentials_near_expiry_are_fetched_again() {
        // Two seconds of life: refreshed after one.
        let (cache, provider) = cache(Duration::from_secs(2));
        cache.identity().await.unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        cache.identity().await.unwrap();
        assert_eq!(provider.fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn valid_credentials_serve_while_the_provider_fails() {
        let (cache, provider) = cache(Duration::from_secs(2));
        cache.identity().await.unwrap();
        provider.failing.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        // Due for a refresh, which fails: the old ones are still valid.
        assert!(cache.identity().await.is_ok());
        // No new try until RETRY_AFTER.
        assert!(cache.identity().await.is_ok());
        assert_eq!(provider.fetches.load(Ordering::SeqCst), 2);
        // None in hand, and the provider fails: no signature can be made.
        let fresh = CredentialsCache::new(SharedCredentialsProvider::new(ArcProvider(provider)));
        assert!(
            fresh
                .identity()
                .await
                .unwrap_err()
                .contains("no AWS credentials")
        );
    }
}
