//! One agent process: the Kafka runtime on the calling thread, the HTTP server on a small
//! tokio runtime of its own, the configuration store between them, and the signals — SIGHUP
//! reloads the configuration, SIGTERM/SIGINT stop (the open transaction is committed, the
//! group left, the server closed).

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use maxx_agents::config::AgentConfig;
use maxx_events::{Producer, Registration, SchemaRegistry};
use maxx_runtime::kafka::leader::Election;
use maxx_runtime::kafka::Stats;
use maxx_runtime::{KafkaConfig, KafkaRuntime, RuntimeError};
use rdkafka::ClientConfig;

use crate::agents::AgentFactory;
use crate::auth::{TokenError, Tokens};
use crate::commands::{CommandPublisher, PublishError};
use crate::config::{ConfigSource, LoadError};
use crate::http::{router, AgentRoutes, ServiceState};
use crate::metrics::{Identity, KpiSource};
use crate::reload::ConfigStore;
use crate::server::Server;

/// Why an agent process could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The configuration is not valid.
    #[error("configuration: {0}")]
    Config(#[from] LoadError),
    /// The tokens cannot be read.
    #[error(transparent)]
    Tokens(#[from] TokenError),
    /// The command publisher could not be set up.
    #[error(transparent)]
    Commands(#[from] PublishError),
    /// The HTTP server could not start or failed.
    #[error("HTTP server: {0}")]
    Http(std::io::Error),
    /// Signal handlers could not be installed.
    #[error("signal handlers: {0}")]
    Signals(std::io::Error),
    /// The runtime stopped with an error (fenced, fatal, crash loop).
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// An agent process, ready to run.
pub struct AgentService {
    runtime: KafkaRuntime,
    store: Arc<ConfigStore>,
    factory: AgentFactory,
    identity: Identity,
    registration: Registration,
    registry: Arc<dyn SchemaRegistry>,
    tokens: Tokens,
    kpis: Vec<Arc<dyn KpiSource>>,
    routes: AgentRoutes,
    commands: bool,
    signals: bool,
    leader_election: bool,
}

impl std::fmt::Debug for AgentService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentService").field("identity", &self.identity).field("runtime", &self.runtime).finish()
    }
}

impl AgentService {
    /// An agent process for the agent `factory` builds, with its configuration from `source`
    /// plus the `MAXX__` overrides among `env`.
    ///
    /// # Errors
    /// When the configuration is not valid.
    pub fn new(kafka: KafkaConfig, registry: Arc<dyn SchemaRegistry>, factory: AgentFactory, source: ConfigSource, env: Vec<(String, String)>) -> Result<Self, ServiceError> {
        let runtime = KafkaRuntime::new(kafka, Arc::clone(&registry));
        let store = Arc::new(ConfigStore::open(source, env, runtime.pending_config())?);
        let name = factory(&store.current()).name();
        let identity = Identity { agent: name.to_owned(), instance: runtime.config().instance_name(name) };
        Ok(Self {
            runtime,
            store,
            factory,
            identity,
            registration: Registration::LookupOnly,
            registry,
            tokens: Tokens::default(),
            kpis: Vec::new(),
            routes: AgentRoutes::new(),
            commands: false,
            signals: false,
            leader_election: false,
        })
    }

    /// Registers missing schemas instead of refusing to start (development and tests).
    #[must_use]
    pub fn registering_schemas(mut self) -> Self {
        self.runtime = self.runtime.registering_schemas();
        self.registration = Registration::Register;
        self
    }

    /// The tokens mutating routes accept (none: every mutating request gets 401).
    #[must_use]
    pub fn with_tokens(mut self, tokens: Tokens) -> Self {
        self.tokens = tokens;
        self
    }

    /// The agent's own routes.
    #[must_use]
    pub fn with_routes(mut self, routes: AgentRoutes) -> Self {
        self.routes = routes;
        self
    }

    /// Adds a source of the agent's KPIs to `/metrics`.
    #[must_use]
    pub fn with_kpis(mut self, source: Arc<dyn KpiSource>) -> Self {
        self.kpis.push(source);
        self
    }

    /// Lets mutating routes publish commands (a producer on the `commands` topic).
    #[must_use]
    pub fn publishing_commands(mut self) -> Self {
        self.commands = true;
        self
    }

    /// SIGHUP reloads the configuration; SIGTERM and SIGINT stop. For a real process only:
    /// handlers are process-wide.
    #[must_use]
    pub fn handling_signals(mut self) -> Self {
        self.signals = true;
        self
    }

    /// Runs the agent only while this replica is the elected leader of its agent
    /// (`maxx_runtime::kafka::leader`): standby replicas of a singleton wait, healthy, and
    /// take over when the leader goes. Every replica must use the same instance (0).
    #[must_use]
    pub fn with_leader_election(mut self) -> Self {
        self.leader_election = true;
        self
    }

    /// The configuration store (reloads, current configuration).
    pub fn config(&self) -> Arc<ConfigStore> {
        Arc::clone(&self.store)
    }

    /// The runtime's counters.
    pub fn stats(&self) -> Arc<Stats> {
        self.runtime.stats()
    }

    /// Set it to stop the process.
    pub fn shutdown_handle(&self) -> Arc<AtomicBool> {
        self.runtime.shutdown_handle()
    }

    /// Who this process is.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Serves HTTP on `listener` and runs the agent until shutdown is requested or the
    /// runtime gives up.
    ///
    /// # Errors
    /// When the server or the command publisher cannot start, signal handlers cannot be
    /// installed, or the runtime stops with an error.
    pub fn run(self, listener: TcpListener) -> Result<(), ServiceError> {
        let shutdown = self.runtime.shutdown_handle();
        if self.signals {
            self.runtime.stop_on_signals().map_err(ServiceError::Signals)?;
        }
        let commands = if self.commands {
            let mut client = ClientConfig::new();
            client.set("bootstrap.servers", &self.runtime.config().bootstrap);
            for (key, value) in &self.runtime.config().overrides {
                client.set(key, value);
            }
            let identity = Producer { agent: self.identity.agent.clone(), version: self.factory(&self.store.current()).version().to_owned(), instance: self.identity.instance.clone() };
            Some(CommandPublisher::new(&client, Arc::clone(&self.registry), self.registration, self.runtime.config().topic("commands"), identity)?)
        } else {
            None
        };
        let state = ServiceState::new(self.identity.clone(), self.runtime.stats(), Arc::clone(&self.store), self.tokens, self.kpis, commands);
        let app = router(state, self.routes);
        let server = Server::start(listener, app, "maxx-http", self.signals.then(|| Arc::clone(&self.store)))?;

        let store = Arc::clone(&self.store);
        let factory = self.factory;
        let result = if self.leader_election {
            run_while_leading(&self.runtime, &self.identity.agent, &shutdown, move || factory(&store.current()))
        } else {
            self.runtime.run(move || factory(&store.current()))
        };
        shutdown.store(true, Ordering::SeqCst);
        let served = server.stop();
        result?;
        served
    }

    fn factory(&self, config: &AgentConfig) -> Box<dyn maxx_agents::DynAgent> {
        (self.factory)(config)
    }
}

/// Runs the agent in terms of leadership: waits (as a standby) until this replica leads its
/// agent's election, runs it until the leadership is lost, and waits again — until the
/// process is asked to stop.
fn run_while_leading(runtime: &KafkaRuntime, agent: &str, shutdown: &Arc<AtomicBool>, mut make_agent: impl FnMut() -> Box<dyn maxx_agents::DynAgent>) -> Result<(), RuntimeError> {
    let stats = runtime.stats();
    let mut election = Election::join(runtime.config(), agent)?;
    loop {
        stats.set_standby(true);
        tracing::info!(agent, "standby: waiting for the leadership");
        if !election.wait_for_leadership(shutdown) {
            return Ok(());
        }
        stats.set_standby(false);
        tracing::info!(agent, "elected leader: starting the agent");
        let lost = Arc::new(AtomicBool::new(false));
        let term_over = Arc::new(AtomicBool::new(false));
        // Losing the leadership stops the runtime the way SIGTERM does: the open transaction
        // ends and the group is left, before the next leader's producer fences this one.
        let watcher = {
            let (lost, term_over, shutdown) = (Arc::clone(&lost), Arc::clone(&term_over), Arc::clone(shutdown));
            std::thread::spawn(move || {
                while !term_over.load(Ordering::SeqCst) {
                    if lost.load(Ordering::SeqCst) {
                        shutdown.store(true, Ordering::SeqCst);
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        let holder = election.hold(Arc::clone(&lost), Arc::clone(&term_over));
        let result = runtime.run(&mut make_agent);
        term_over.store(true, Ordering::SeqCst);
        let _ = watcher.join();
        election = holder.join().map_err(|_| RuntimeError::Fatal("the leader-election thread panicked".into()))?;
        result?;
        if !lost.load(Ordering::SeqCst) {
            return Ok(()); // asked to stop
        }
        tracing::warn!(agent, "leadership lost: back to standby");
        shutdown.store(false, Ordering::SeqCst);
    }
}
