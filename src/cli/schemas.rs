//! `maxx schemas check|register|list`: schema governance over the `schemas/` tree and a
//! schema registry (logic in `maxx_registry::governance`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;
use maxx_registry::client::RegistryClient;
use maxx_registry::governance::{self, LEVELS_FILE};

/// Schema governance commands.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: SchemasCommand,
}

#[derive(Debug, clap::Args)]
pub(super) struct Tree {
    /// The schema tree: <DIR>/<topic>/v<N>.avsc and <DIR>/compatibility.yaml.
    #[arg(long, default_value = "schemas", value_name = "DIR")]
    dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub(super) struct Registry {
    /// Schema registry URL (Confluent-compatible: maxx registry serve, Redpanda, Confluent).
    #[arg(long, env = "MAXX_SCHEMA_REGISTRY", default_value = "http://127.0.0.1:8081", value_name = "URL")]
    registry: String,
}

#[derive(Debug, Subcommand)]
enum SchemasCommand {
    /// Tell whether the schemas in the working tree can be registered; exits 1 if not.
    #[command(
        long_about = "Tell whether the schemas in the working tree can be registered.\n\n\
            Every schemas/<topic>/v<N>.avsc must parse, and every version must be compatible with the\n\
            earlier ones under its subject's level (schemas/compatibility.yaml, default BACKWARD) —\n\
            the check a registry makes when they are registered oldest first. Without --offline the\n\
            versions the registry does not hold yet are also checked against those it holds, and the\n\
            registry is asked for its verdict. Each problem names the file, the field, the rule\n\
            broken, which consumers would break, and the usual fix. Exits 1 on any problem, so it\n\
            can gate CI.",
        after_help = "Examples:\n  maxx schemas check --offline             # the tree alone (CI)\n  \
            maxx schemas check                       # and against MAXX_SCHEMA_REGISTRY\n  \
            maxx schemas check --dir /tmp/scratch/schemas --offline\n\n\
            Environment:\n  MAXX_SCHEMA_REGISTRY  schema registry URL (default http://127.0.0.1:8081)"
    )]
    Check {
        #[command(flatten)]
        tree: Tree,
        #[command(flatten)]
        registry: Registry,
        /// Check the tree alone, without a registry.
        #[arg(long)]
        offline: bool,
    },
    /// Register every schema version of the tree, oldest first, and set each subject's level.
    #[command(
        long_about = "Register every schema version under schemas/ under its subject <topic>-value, oldest\n\
            first, after setting the subject's compatibility level from schemas/compatibility.yaml\n\
            (default BACKWARD). Versions already registered are left as they are, so it is safe to\n\
            run on every deploy. Exits 1 if the registry refuses a version (e.g. incompatible).",
        after_help = "Examples:\n  maxx schemas register\n  MAXX_SCHEMA_REGISTRY=http://redpanda:8081 maxx schemas register\n\n\
            Environment:\n  MAXX_SCHEMA_REGISTRY  schema registry URL (default http://127.0.0.1:8081)"
    )]
    Register {
        #[command(flatten)]
        tree: Tree,
        #[command(flatten)]
        registry: Registry,
    },
    /// Show the registry's subjects with their versions, schema ids and compatibility levels.
    #[command(after_help = "Examples:\n  maxx schemas list\n  maxx schemas list --registry http://127.0.0.1:18081\n\n\
            Environment:\n  MAXX_SCHEMA_REGISTRY  schema registry URL (default http://127.0.0.1:8081)")]
    List {
        #[command(flatten)]
        registry: Registry,
    },
}

fn client(registry: &Registry) -> anyhow::Result<RegistryClient> {
    RegistryClient::new(&registry.registry).context("MAXX_SCHEMA_REGISTRY / --registry")
}

fn load(tree: &Tree) -> anyhow::Result<governance::SchemaTree> {
    governance::load(&tree.dir).with_context(|| format!("reading the schema tree {} (run from the repository root, or pass --dir)", tree.dir.display()))
}

/// Runs a `maxx schemas` command.
///
/// # Errors
/// When the tree cannot be read or the registry cannot be reached.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        SchemasCommand::Check { tree, registry, offline } => {
            let schemas = load(&tree)?;
            let findings = if offline {
                governance::check_offline(&schemas)
            } else {
                let client = client(&registry)?;
                governance::check_live(&schemas, &client).with_context(|| format!("checking against the registry at {} (use --offline to check the tree alone)", client.url()))?
            };
            let versions: usize = schemas.subjects.iter().map(|s| s.versions.len()).sum();
            let against = if offline { "offline".to_owned() } else { format!("against {}", registry.registry) };
            if findings.is_empty() {
                println!("ok: {versions} schema versions of {} subjects can be registered ({against}; levels from {})", schemas.subjects.len(), tree.dir.join(LEVELS_FILE).display());
                return Ok(ExitCode::SUCCESS);
            }
            for finding in &findings {
                println!("error: {finding}");
            }
            println!("{} problem{} in {versions} schema versions ({against}): these schemas cannot be registered", findings.len(), if findings.len() == 1 { "" } else { "s" });
            Ok(ExitCode::FAILURE)
        }
        SchemasCommand::Register { tree, registry } => register(&tree, &registry),
        SchemasCommand::List { registry } => {
            let client = client(&registry)?;
            let (global, listings) = governance::list(&client).with_context(|| format!("listing {}", client.url()))?;
            println!("registry {} — global level {global}", client.url());
            if listings.is_empty() {
                println!("(no subjects)");
            }
            let width = listings.iter().map(|l| l.subject.len()).max().unwrap_or(7).max(7);
            if !listings.is_empty() {
                println!("{:<width$}  {:<19}  versions (version:id)", "subject", "level");
            }
            for l in &listings {
                let level = if l.level.1 { l.level.0.to_string() } else { format!("{} (global)", l.level.0) };
                let versions: Vec<String> = l.versions.iter().map(|(v, id)| format!("{v}:{id}")).collect();
                println!("{:<width$}  {:<19}  {}", l.subject, level, versions.join(" "));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Registers every schema version of `tree` at `registry`, printing each outcome.
pub(super) fn register(tree: &Tree, registry: &Registry) -> anyhow::Result<ExitCode> {
    let schemas = load(tree)?;
    let client = client(registry)?;
    let outcomes = governance::register(&schemas, &client).with_context(|| format!("registering at {}", client.url()))?;
    for outcome in &outcomes {
        println!("{outcome}");
    }
    let refused = outcomes.iter().filter(|o| o.is_refusal()).count();
    if refused > 0 {
        println!("{refused} schema version{} refused by {}", if refused == 1 { " was" } else { "s were" }, client.url());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
