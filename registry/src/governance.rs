//! Schema governance: what `maxx schemas check|register|list` do with the schemas of the
//! working tree and a registry.
//!
//! The tree is `schemas/<topic>/v<N>.avsc` (versions 1, 2, ... without gaps; a released file
//! never changes), registered under the TopicNameStrategy subject `<topic>-value`, plus
//! `schemas/compatibility.yaml`, which sets each subject's compatibility level:
//!
//! ```yaml
//! default: BACKWARD          # for subjects not listed (BACKWARD when absent)
//! subjects:
//!   risk_state-value: FULL
//! ```
//!
//! - **check** (offline): every file parses, and every version can follow the versions
//!   before it under its subject's level — exactly the check a registry makes when they are
//!   registered oldest first. Against a live registry it also checks the versions not yet
//!   registered against what the registry holds, and asks the registry's own verdict.
//! - **register**: sets each subject's level, then registers its versions oldest first;
//!   registering what is already there changes nothing, so it can run on every deploy.
//! - **list**: subjects, versions, ids and levels of a registry.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use apache_avro::Schema;
use serde::Deserialize;

use crate::client::{ClientError, RegistryClient};
use crate::compat::{self, Level, Violation};
use crate::schema;

/// The file under `schemas/` that sets the subjects' compatibility levels.
pub const LEVELS_FILE: &str = "compatibility.yaml";

/// Why the schema tree or the registry could not be worked with.
#[derive(Debug, thiserror::Error)]
pub enum GovernanceError {
    /// A file or directory could not be read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The path.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The tree is not laid out as expected, or the levels file is wrong.
    #[error("{path}: {reason}")]
    Layout {
        /// The file or directory at fault.
        path: PathBuf,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The registry could not be asked.
    #[error(transparent)]
    Registry(#[from] ClientError),
}

/// One version file of the tree.
#[derive(Debug, Clone)]
pub struct LocalVersion {
    /// N of `v<N>.avsc`.
    pub version: u32,
    /// The file.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
}

/// One topic's schemas in the tree.
#[derive(Debug, Clone)]
pub struct LocalSubject {
    /// The topic (the directory name).
    pub topic: String,
    /// Its subject, `<topic>-value`.
    pub subject: String,
    /// Its level from the levels file.
    pub level: Level,
    /// Its versions, oldest first.
    pub versions: Vec<LocalVersion>,
}

/// The schemas of a working tree.
#[derive(Debug, Clone)]
pub struct SchemaTree {
    /// The `schemas/` directory.
    pub dir: PathBuf,
    /// Its subjects, by topic name.
    pub subjects: Vec<LocalSubject>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LevelsFile {
    #[serde(default)]
    default: Option<String>,
    #[serde(default)]
    subjects: BTreeMap<String, String>,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> GovernanceError + '_ {
    move |e| GovernanceError::Io { path: path.to_owned(), reason: e.to_string() }
}

fn parse_level(path: &Path, what: &str, text: &str) -> Result<Level, GovernanceError> {
    text.parse().map_err(|e: compat::InvalidLevel| GovernanceError::Layout { path: path.to_owned(), reason: format!("{what}: {e}") })
}

/// Reads the schema tree at `dir` (`schemas/`).
///
/// # Errors
/// [`GovernanceError`] when a file cannot be read, a file in a topic directory is named other
/// than `v<N>.avsc`, versions have a gap, or the levels file is wrong (unknown key, unknown
/// level, a subject no topic directory has).
pub fn load(dir: &Path) -> Result<SchemaTree, GovernanceError> {
    let levels_path = dir.join(LEVELS_FILE);
    let levels: LevelsFile = match std::fs::read_to_string(&levels_path) {
        Ok(text) => serde_saphyr::from_str(&text).map_err(|e| GovernanceError::Layout { path: levels_path.clone(), reason: e.to_string() })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => LevelsFile::default(),
        Err(e) => return Err(io(&levels_path)(e)),
    };
    let default = match &levels.default {
        Some(text) => parse_level(&levels_path, "default", text)?,
        None => Level::Backward,
    };
    let mut subjects = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir).map_err(io(dir))?.collect::<Result<_, _>>().map_err(io(dir))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let topic = entry.file_name().to_string_lossy().into_owned();
        let mut versions = Vec::new();
        for file in std::fs::read_dir(&path).map_err(io(&path))? {
            let file = file.map_err(io(&path))?.path();
            if file.extension().and_then(|e| e.to_str()) != Some("avsc") {
                continue;
            }
            let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            let version = stem.strip_prefix('v').and_then(|n| n.parse::<u32>().ok()).filter(|n| *n >= 1).ok_or_else(|| GovernanceError::Layout {
                path: file.clone(),
                reason: "schema files are named v<N>.avsc (v1.avsc, v2.avsc, ...)".into(),
            })?;
            let text = std::fs::read_to_string(&file).map_err(io(&file))?;
            versions.push(LocalVersion { version, path: file, text });
        }
        if versions.is_empty() {
            continue;
        }
        versions.sort_by_key(|v| v.version);
        for (i, v) in versions.iter().enumerate() {
            if v.version as usize != i + 1 {
                return Err(GovernanceError::Layout {
                    path: v.path.clone(),
                    reason: format!("version {} follows version {}: versions count 1, 2, 3, ... without gaps", v.version, i),
                });
            }
        }
        let subject = format!("{topic}-value");
        let level = match levels.subjects.get(&subject) {
            Some(text) => parse_level(&levels_path, &subject, text)?,
            None => default,
        };
        subjects.push(LocalSubject { topic, subject, level, versions });
    }
    for name in levels.subjects.keys() {
        if !subjects.iter().any(|s| &s.subject == name) {
            return Err(GovernanceError::Layout {
                path: levels_path.clone(),
                reason: format!("subject {name:?} has no schemas (expected a directory {}/ with v1.avsc)", name.strip_suffix("-value").unwrap_or(name)),
            });
        }
    }
    Ok(SchemaTree { dir: dir.to_owned(), subjects })
}

/// Something `check` found that keeps a schema from being registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The subject.
    pub subject: String,
    /// The file at fault.
    pub path: PathBuf,
    /// What is wrong, which reader breaks, and what to do.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.path.display(), self.subject, self.message)
    }
}

fn violation_finding(subject: &LocalSubject, file: &LocalVersion, against: &str, v: &Violation) -> Finding {
    Finding {
        subject: subject.subject.clone(),
        path: file.path.clone(),
        message: format!("cannot follow {against} under {}: {v}", subject.level),
    }
}

/// The parsed versions of a subject, or findings for those that do not parse.
fn parsed_versions(subject: &LocalSubject, findings: &mut Vec<Finding>) -> Option<Vec<Schema>> {
    let mut parsed = Vec::new();
    for v in &subject.versions {
        match schema::parse(&v.text) {
            Ok(p) => parsed.push(p.schema),
            Err(e) => findings.push(Finding { subject: subject.subject.clone(), path: v.path.clone(), message: e.to_string() }),
        }
    }
    (parsed.len() == subject.versions.len()).then_some(parsed)
}

/// Checks the tree on its own: every file parses, and each version can follow the earlier
/// ones under its subject's level.
pub fn check_offline(tree: &SchemaTree) -> Vec<Finding> {
    let mut findings = Vec::new();
    for subject in &tree.subjects {
        let Some(parsed) = parsed_versions(subject, &mut findings) else { continue };
        for (i, file) in subject.versions.iter().enumerate().skip(1) {
            let previous: Vec<(u32, &Schema)> = subject.versions[..i].iter().zip(&parsed).map(|(v, s)| (v.version, s)).collect();
            for violation in compat::check(subject.level, &parsed[i], &previous) {
                findings.push(violation_finding(subject, file, &format!("v{}", violation.version), &violation));
            }
        }
    }
    findings
}

/// Checks the tree, and the versions the registry does not hold yet against those it holds.
///
/// # Errors
/// [`GovernanceError::Registry`] when the registry cannot be asked.
pub fn check_live(tree: &SchemaTree, client: &RegistryClient) -> Result<Vec<Finding>, GovernanceError> {
    let mut findings = check_offline(tree);
    for subject in &tree.subjects {
        let mut holds: Vec<(u32, Schema)> = Vec::new();
        let registered = match client.versions(&subject.subject) {
            Ok(versions) => versions,
            Err(e) if e.code() == Some(40401) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        for version in registered {
            let shown = client.version(&subject.subject, &version.to_string())?;
            if let Ok(p) = schema::parse(&shown.schema) {
                holds.push((version, p.schema));
            }
        }
        let registry_level = match client.level(Some(&subject.subject))? {
            Some(level) => Some(level),
            None => client.level(None)?,
        };
        let mut next_version = holds.last().map_or(1, |(v, _)| v + 1);
        let mut asked_registry = false;
        for file in &subject.versions {
            let Ok(candidate) = schema::parse(&file.text) else { continue };
            if client.lookup(&subject.subject, &file.text)?.is_some() {
                continue;
            }
            let previous: Vec<(u32, &Schema)> = holds.iter().map(|(v, s)| (*v, s)).collect();
            let violations = compat::check(subject.level, &candidate.schema, &previous);
            for violation in &violations {
                let against = format!("registered version {} of {}", violation.version, subject.subject);
                findings.push(violation_finding(subject, file, &against, violation));
            }
            // The registry's own verdict, for the first version it would be asked about and
            // when it applies the same level (register sets the level first).
            if violations.is_empty() && !asked_registry && !holds.is_empty() && registry_level == Some(subject.level) {
                asked_registry = true;
                let (compatible, messages) = client.test_compatibility(&subject.subject, "latest", &file.text)?;
                if !compatible {
                    findings.push(Finding {
                        subject: subject.subject.clone(),
                        path: file.path.clone(),
                        message: format!("the registry at {} refuses it: {}", client.url(), if messages.is_empty() { "incompatible".into() } else { messages.join("; ") }),
                    });
                }
            }
            holds.push((next_version, candidate.schema));
            next_version += 1;
        }
    }
    Ok(findings)
}

/// What `register` did with one version file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// Registered now, as `version` with `id`.
    New {
        /// The subject.
        subject: String,
        /// The file.
        path: PathBuf,
        /// The schema id.
        id: u32,
        /// The subject version.
        version: u32,
    },
    /// Already registered as `version` with `id`.
    Existing {
        /// The subject.
        subject: String,
        /// The file.
        path: PathBuf,
        /// The schema id.
        id: u32,
        /// The subject version.
        version: u32,
    },
    /// The subject's level was set.
    Level {
        /// The subject.
        subject: String,
        /// Its level before, if it had its own.
        before: Option<Level>,
        /// Its level now.
        now: Level,
    },
    /// The registry refused the file (e.g. 409 incompatible); later versions of the
    /// subject were not tried.
    Refused {
        /// The subject.
        subject: String,
        /// The file.
        path: PathBuf,
        /// The registry's answer.
        error: ClientError,
    },
}

impl Registered {
    /// Whether this is a refusal.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Registered::Refused { .. })
    }
}

impl fmt::Display for Registered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Registered::New { subject, path, id, version } => write!(f, "registered  {subject} version {version} (id {id}) from {}", path.display()),
            Registered::Existing { subject, path, id, version } => write!(f, "unchanged   {subject} version {version} (id {id}) from {}", path.display()),
            Registered::Level { subject, before, now } => match before {
                Some(before) => write!(f, "level       {subject}: {before} -> {now}"),
                None => write!(f, "level       {subject}: {now}"),
            },
            Registered::Refused { subject, path, error } => write!(f, "REFUSED     {subject} {}: {error}", path.display()),
        }
    }
}

/// Registers the tree: per subject, its level, then its versions oldest first. Idempotent.
///
/// # Errors
/// [`GovernanceError::Registry`] when the registry cannot be reached; refusals of single
/// files are reported as [`Registered::Refused`] and the other subjects still go on.
pub fn register(tree: &SchemaTree, client: &RegistryClient) -> Result<Vec<Registered>, GovernanceError> {
    let mut outcomes = Vec::new();
    for subject in &tree.subjects {
        let before = client.level(Some(&subject.subject))?;
        if before != Some(subject.level) {
            client.set_level(Some(&subject.subject), subject.level)?;
            outcomes.push(Registered::Level { subject: subject.subject.clone(), before, now: subject.level });
        }
        for file in &subject.versions {
            if let Some(found) = client.lookup(&subject.subject, &file.text)? {
                outcomes.push(Registered::Existing { subject: subject.subject.clone(), path: file.path.clone(), id: found.id, version: found.version });
                continue;
            }
            match client.register(&subject.subject, &file.text) {
                Ok(id) => {
                    let version = client.lookup(&subject.subject, &file.text)?.map_or(0, |v| v.version);
                    outcomes.push(Registered::New { subject: subject.subject.clone(), path: file.path.clone(), id, version });
                }
                Err(error @ ClientError::Refused { status: 400..=499, .. }) => {
                    outcomes.push(Registered::Refused { subject: subject.subject.clone(), path: file.path.clone(), error });
                    break;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(outcomes)
}

/// One subject of a registry, as `list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The subject.
    pub subject: String,
    /// Its level, and whether it is its own (`true`) or the global one.
    pub level: (Level, bool),
    /// `(version, id)`, oldest first.
    pub versions: Vec<(u32, u32)>,
}

/// The subjects of a registry with their versions, ids and levels; and the global level.
///
/// # Errors
/// [`GovernanceError::Registry`].
pub fn list(client: &RegistryClient) -> Result<(Level, Vec<Listing>), GovernanceError> {
    let global = client.level(None)?.unwrap_or_default();
    let mut listings = Vec::new();
    for subject in client.subjects()? {
        let own = client.level(Some(&subject))?;
        let mut versions = Vec::new();
        for version in client.versions(&subject)? {
            versions.push((version, client.version(&subject, &version.to_string())?.id));
        }
        listings.push(Listing { level: own.map_or((global, false), |l| (l, true)), subject, versions });
    }
    Ok((global, listings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("maxx-governance-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    fn write(dir: &Path, file: &str, text: &str) {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }

    const V1: &str = r#"{"type":"record","name":"T","fields":[{"name":"a","type":"long"}]}"#;
    const V2_OK: &str = r#"{"type":"record","name":"T","fields":[{"name":"a","type":"long"},{"name":"b","type":["null","string"],"default":null}]}"#;
    const V2_BAD: &str = r#"{"type":"record","name":"T","fields":[{"name":"a","type":"long"},{"name":"b","type":"string"}]}"#;

    #[test]
    fn the_repository_tree_loads_and_passes() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
        let tree = load(&dir).expect("schemas/ loads");
        assert_eq!(tree.subjects.len(), maxx_events::catalog().len());
        assert!(tree.subjects.iter().all(|s| s.subject == format!("{}-value", s.topic)));
        assert_eq!(check_offline(&tree), Vec::new());
    }

    #[test]
    fn an_incompatible_version_is_found_with_its_reason() {
        let dir = scratch("bad");
        write(&dir, "t/v1.avsc", V1);
        write(&dir, "t/v2.avsc", V2_BAD);
        let findings = check_offline(&load(&dir).expect("load"));
        assert_eq!(findings.len(), 1, "{findings:?}");
        let text = findings[0].to_string();
        assert!(text.contains("v2.avsc") && text.contains("t-value") && text.contains("T.b") && text.contains("field without default") && text.contains("version 1"), "{text}");
        // Under FORWARD the same change is fine.
        write(&dir, LEVELS_FILE, "subjects:\n  t-value: FORWARD\n");
        assert_eq!(check_offline(&load(&dir).expect("load")), Vec::new());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn levels_default_and_per_subject() {
        let dir = scratch("levels");
        write(&dir, "t/v1.avsc", V1);
        write(&dir, "t/v2.avsc", V2_OK);
        write(&dir, "u/v1.avsc", V1);
        write(&dir, LEVELS_FILE, "# levels\ndefault: full_transitive\nsubjects:\n  u-value: NONE\n");
        let tree = load(&dir).expect("load");
        assert_eq!(tree.subjects.iter().map(|s| (s.subject.as_str(), s.level)).collect::<Vec<_>>(), vec![("t-value", Level::FullTransitive), ("u-value", Level::None)]);
        write(&dir, LEVELS_FILE, "subjects:\n  nope-value: FULL\n");
        assert!(load(&dir).expect_err("unknown subject").to_string().contains("nope-value"));
        write(&dir, LEVELS_FILE, "subjects:\n  t-value: SIDEWAYS\n");
        assert!(load(&dir).expect_err("bad level").to_string().contains("SIDEWAYS"));
        write(&dir, LEVELS_FILE, "levels: {}\n");
        assert!(load(&dir).is_err(), "unknown keys are refused");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn layout_errors_say_what_to_do() {
        let dir = scratch("layout");
        write(&dir, "t/v1.avsc", V1);
        write(&dir, "t/v3.avsc", V2_OK);
        assert!(load(&dir).expect_err("gap").to_string().contains("without gaps"));
        std::fs::remove_file(dir.join("t/v3.avsc")).expect("rm");
        write(&dir, "t/latest.avsc", V1);
        assert!(load(&dir).expect_err("name").to_string().contains("v<N>.avsc"));
        std::fs::remove_file(dir.join("t/latest.avsc")).expect("rm");
        write(&dir, "t/v2.avsc", "{not json");
        let findings = check_offline(&load(&dir).expect("load"));
        assert!(findings[0].message.contains("not JSON"), "{findings:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
