//! Bearer tokens for mutating routes. Tokens come from a file (`MAXX_TOKEN_FILE`: one
//! `name:token` per line, or a single bare token) and/or `MAXX_API_TOKEN` — never from the
//! config map, which is readable by whoever reads the deployment. A request is authorized
//! when its `Authorization: Bearer <token>` equals one of them, compared in constant time.

use std::path::Path;

use subtle::ConstantTimeEq;

/// Environment variable naming the token file.
pub const TOKEN_FILE_ENV: &str = "MAXX_TOKEN_FILE";
/// Environment variable holding one token (named `env`).
pub const TOKEN_ENV: &str = "MAXX_API_TOKEN";

/// The accepted tokens, each with the name recorded as `requested_by` on commands.
#[derive(Clone, Default)]
pub struct Tokens {
    entries: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: tokens never reach a log.
        f.debug_struct("Tokens").field("names", &self.entries.iter().map(|(n, _)| n).collect::<Vec<_>>()).finish()
    }
}

/// A token source that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The file could not be read.
    #[error("cannot read the token file {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// What the operating system said.
        reason: String,
    },
    /// A line of the file is malformed.
    #[error("token file line {line}: {problem}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What is wrong (the token itself is never quoted).
        problem: String,
    },
}

/// A caller whose token was accepted: the token's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub String);

impl Tokens {
    /// Tokens from `MAXX_TOKEN_FILE` and `MAXX_API_TOKEN`; none when neither is set (then
    /// every mutating request is refused).
    ///
    /// # Errors
    /// When the file is set but unreadable or malformed.
    pub fn from_env() -> Result<Self, TokenError> {
        let file = std::env::var_os(TOKEN_FILE_ENV).filter(|v| !v.is_empty());
        let env = std::env::var(TOKEN_ENV).ok();
        Self::from_sources(file.as_deref().map(Path::new), env.as_deref())
    }

    /// Tokens from an optional file and an optional single token.
    ///
    /// # Errors
    /// When the file is given but unreadable or malformed.
    pub fn from_sources(file: Option<&Path>, token: Option<&str>) -> Result<Self, TokenError> {
        let mut tokens = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| TokenError::Read { path: path.display().to_string(), reason: e.to_string() })?;
                Self::parse(&text)?
            }
            None => Self::default(),
        };
        if let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) {
            tokens.entries.push(("env".to_owned(), token.as_bytes().to_vec()));
        }
        Ok(tokens)
    }

    /// Parses a token file: blank lines and `#` comments skipped; either lines `name:token`,
    /// or one bare token (named `file`).
    ///
    /// # Errors
    /// A line with an empty name or token, a bare token among named ones, a duplicate name.
    pub fn parse(text: &str) -> Result<Self, TokenError> {
        let lines: Vec<(usize, &str)> =
            text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())).filter(|(_, l)| !l.is_empty() && !l.starts_with('#')).collect();
        if let [(line, only)] = lines.as_slice() {
            if !only.contains(':') {
                return Ok(Self { entries: vec![("file".to_owned(), only.as_bytes().to_vec())] });
            }
            let _ = line;
        }
        let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
        for (line, text) in lines {
            let Some((name, token)) = text.split_once(':') else {
                return Err(TokenError::Malformed { line, problem: "expected name:token (a bare token only when it is the file's only line)".into() });
            };
            let (name, token) = (name.trim(), token.trim());
            if name.is_empty() || token.is_empty() {
                return Err(TokenError::Malformed { line, problem: "empty name or token".into() });
            }
            if entries.iter().any(|(n, _)| n == name) {
                return Err(TokenError::Malformed { line, problem: format!("name {name:?} appears twice") });
            }
            entries.push((name.to_owned(), token.as_bytes().to_vec()));
        }
        Ok(Self { entries })
    }

    /// How many tokens are accepted.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no token is accepted (every mutating request is refused).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The caller presenting `authorization` (the header's value), when it is `Bearer` and a
    /// known token. Every token is compared, each in constant time, so the time taken says
    /// nothing about which token matched or how much of one did.
    pub fn authorize(&self, authorization: Option<&str>) -> Option<Caller> {
        let presented = authorization?.strip_prefix("Bearer ")?.trim().as_bytes();
        let mut matched: Option<&str> = None;
        for (name, token) in &self.entries {
            if bool::from(token.as_slice().ct_eq(presented)) && matched.is_none() {
                matched = Some(name);
            }
        }
        matched.map(|name| Caller(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_tokens_authorize_their_callers() {
        let tokens = Tokens::parse("# operators\nalice: s3cret-a\n\nbob:s3cret-b\n").expect("parses");
        assert_eq!(tokens.len(), 2);
        assert_eq!(tokens.authorize(Some("Bearer s3cret-a")), Some(Caller("alice".into())));
        assert_eq!(tokens.authorize(Some("Bearer s3cret-b")), Some(Caller("bob".into())));
    }

    #[test]
    fn anything_else_is_refused() {
        let tokens = Tokens::parse("alice:s3cret-a").expect("parses");
        for header in [None, Some(""), Some("s3cret-a"), Some("Basic s3cret-a"), Some("Bearer "), Some("Bearer s3cret"), Some("Bearer s3cret-a2"), Some("bearer s3cret-a")] {
            assert_eq!(tokens.authorize(header), None, "{header:?}");
        }
        assert_eq!(Tokens::default().authorize(Some("Bearer ")), None, "no token configured: nothing passes");
        assert_eq!(Tokens::default().authorize(Some("Bearer anything")), None);
    }

    #[test]
    fn a_single_bare_token_and_the_environment_token() {
        let dir = std::env::temp_dir().join(format!("maxx-auth-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("token");
        std::fs::write(&file, "just-one-token\n").expect("write");
        let tokens = Tokens::from_sources(Some(&file), Some("from-env")).expect("reads");
        assert_eq!(tokens.authorize(Some("Bearer just-one-token")), Some(Caller("file".into())));
        assert_eq!(tokens.authorize(Some("Bearer from-env")), Some(Caller("env".into())));
        assert!(matches!(Tokens::from_sources(Some(&dir.join("missing")), None), Err(TokenError::Read { .. })));
        std::fs::remove_file(&file).expect("clean up");
    }

    #[test]
    fn malformed_files_are_refused_without_quoting_tokens() {
        for text in ["alice:a\nbare", "alice:", ":token", "alice:a\nalice:b"] {
            let error = Tokens::parse(text).expect_err(text);
            assert!(!error.to_string().contains("token\n"), "{error}");
        }
        let debug = format!("{:?}", Tokens::parse("alice:very-secret").expect("parses"));
        assert!(!debug.contains("very-secret"), "{debug}");
    }
}
