//! Hot reload: the configuration in force, and the one way to replace it (SIGHUP or
//! `POST /reload`). A valid file is swapped in and handed to the running agent between two
//! transactions; an invalid one is refused with its reasons, which `/healthz` reports until a
//! later reload succeeds, and the old configuration stays in force.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use maxx_agents::config::AgentConfig;
use maxx_runtime::kafka::config::PendingConfig;

use crate::config::{load, ConfigSource, LoadError};

/// The configuration of one agent process and its reload history.
#[derive(Debug)]
pub struct ConfigStore {
    source: ConfigSource,
    /// The environment as of start: overrides apply to every reload the same way.
    env: Vec<(String, String)>,
    current: RwLock<Arc<AgentConfig>>,
    generation: AtomicU64,
    /// Why the last reload was refused; cleared by a successful one.
    refused: Mutex<Option<Vec<String>>>,
    /// Where an accepted configuration goes for the runtime to apply.
    pending: Arc<PendingConfig>,
    /// Serializes reloads, so generations are handed to the runtime in order.
    reloading: Mutex<()>,
    /// Called with every accepted configuration (e.g. to change the log level).
    observers: Mutex<Vec<Observer>>,
}

/// A callback run on every accepted reload.
struct Observer(Box<dyn Fn(&AgentConfig) + Send + Sync>);

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Observer")
    }
}

/// The result of an accepted reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Number of this configuration (1 for the first reload); the runtime reports the last
    /// one it applied.
    pub generation: u64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ConfigStore {
    /// Loads the initial configuration.
    ///
    /// # Errors
    /// When it is not valid: the process must not start with it.
    pub fn open(source: ConfigSource, env: Vec<(String, String)>, pending: Arc<PendingConfig>) -> Result<Self, LoadError> {
        let config = load(&source, &env)?;
        Ok(Self {
            source,
            env,
            current: RwLock::new(Arc::new(config)),
            generation: AtomicU64::new(0),
            refused: Mutex::new(None),
            pending,
            reloading: Mutex::new(()),
            observers: Mutex::new(Vec::new()),
        })
    }

    /// Runs `observer` with every configuration accepted from now on.
    pub fn on_reload(&self, observer: impl Fn(&AgentConfig) + Send + Sync + 'static) {
        lock(&self.observers).push(Observer(Box::new(observer)));
    }

    /// The configuration in force.
    pub fn current(&self) -> Arc<AgentConfig> {
        Arc::clone(&self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Generation of the configuration in force (0: the one the process started with).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The file read.
    pub fn source(&self) -> &ConfigSource {
        &self.source
    }

    /// The problems of the last refused reload, while no later reload succeeded.
    pub fn refused(&self) -> Option<Vec<String>> {
        lock(&self.refused).clone()
    }

    /// Reads the file again. Valid: it is in force from now on and queued for the agent.
    /// Invalid: refused, the old configuration stays, the reasons are kept for `/healthz`.
    ///
    /// # Errors
    /// The reasons a new file was refused.
    pub fn reload(&self) -> Result<Accepted, LoadError> {
        let _one_at_a_time = lock(&self.reloading);
        match load(&self.source, &self.env) {
            Ok(config) => {
                let config = Arc::new(config);
                let generation = self.generation.load(Ordering::SeqCst) + 1;
                *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::clone(&config);
                self.generation.store(generation, Ordering::SeqCst);
                *lock(&self.refused) = None;
                self.pending.put(generation, Arc::clone(&config));
                for observer in lock(&self.observers).iter() {
                    (observer.0)(&config);
                }
                tracing::info!(generation, path = %self.source.path.display(), "configuration reloaded");
                Ok(Accepted { generation })
            }
            Err(error) => {
                let problems = error.problems();
                tracing::error!(path = %self.source.path.display(), problems = ?problems, "configuration reload refused; the previous one stays in force");
                *lock(&self.refused) = Some(problems);
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::FEEDS;

    #[test]
    fn a_valid_reload_is_queued_and_an_invalid_one_keeps_the_old_configuration() {
        let path = std::env::temp_dir().join(format!("maxx-reload-test-{}.yaml", std::process::id()));
        let file = |text: &str| std::fs::write(&path, format!("{FEEDS}{text}")).expect("write");
        file("service:\n  max_lag: 100\n");
        let pending = Arc::new(PendingConfig::default());
        let store = ConfigStore::open(ConfigSource { path: path.clone(), explicit: true }, Vec::new(), Arc::clone(&pending)).expect("valid");
        assert_eq!(store.current().service.max_lag, 100);
        assert!(pending.take().is_none(), "the initial configuration is the agent's own");

        file("service:\n  max_lag: 200\n");
        assert_eq!(store.reload(), Ok(Accepted { generation: 1 }));
        let (generation, queued) = pending.take().expect("queued for the agent");
        assert_eq!((generation, queued.service.max_lag), (1, 200));

        file("service:\n  max_lag: 0\n  bogus: 2\n");
        let refused = store.reload().expect_err("invalid");
        assert!(matches!(refused, LoadError::Parse { .. }));
        assert_eq!(store.current().service.max_lag, 200, "old configuration stays");
        assert_eq!(store.generation(), 1);
        assert!(store.refused().is_some_and(|p| p[0].contains("bogus")));
        assert!(pending.take().is_none(), "nothing reaches the agent");

        file("service:\n  max_lag: 300\n");
        assert_eq!(store.reload(), Ok(Accepted { generation: 2 }));
        assert_eq!(store.refused(), None, "a successful reload clears the refusal");
        std::fs::remove_file(&path).expect("clean up");
    }
}
