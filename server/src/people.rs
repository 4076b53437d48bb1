//! People, roles and who may do what: the pure half of authentication and
//! authorization. The HTTP half is `api::auth`; the rows live in `store`.
//!
//! Secrets (session ids, API tokens, one-time login links, share links) are 32
//! random bytes written as 64 hex digits; only their SHA-256 is stored, so a copy of
//! the database logs no one in. Passwords are hashed with Argon2id.

use std::fmt;

use sha2::{Digest, Sha256};

/// The name of the built-in admin: whoever holds the server's token.
pub const BUILTIN_ADMIN: &str = "admin";

/// What a person may do. Each role may do everything the roles before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Also submits, cancels, tags, edits notebooks and files, uploads to datastores,
    /// and creates share links.
    Editor,
    /// Also manages people, everyone's share links and sessions, and environments.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];

    /// The role's name as written in the store and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// Parses `viewer`, `editor` or `admin`.
    pub fn parse(text: &str) -> Result<Self, PeopleError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| PeopleError::UnknownRole(text.to_owned()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a read-only share link shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareScope {
    /// One run.
    Run(String),
    /// Every run of one experiment.
    Experiment(String),
}

/// Who is asking, once credentials are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A person (or the built-in admin, named [`BUILTIN_ADMIN`], person `None`).
    Person {
        /// Their name, `None` for the built-in admin.
        person: Option<String>,
        /// Their role, read at each request (so `set-role` takes effect at once).
        role: Role,
        /// The browser session, when the request came with the session cookie.
        session: Option<i64>,
    },
    /// A browser holding a share link's session: reads of what the link shares only.
    Share {
        /// The link's id.
        link: i64,
        /// What it shares.
        scope: ShareScope,
        /// The session.
        session: i64,
    },
}

impl Principal {
    /// The built-in admin (the server token).
    pub fn builtin_admin(session: Option<i64>) -> Self {
        Principal::Person {
            person: None,
            role: Role::Admin,
            session,
        }
    }

    /// The name runs record as their submitter.
    pub fn name(&self) -> &str {
        match self {
            Principal::Person {
                person: Some(name), ..
            } => name,
            Principal::Person { person: None, .. } => BUILTIN_ADMIN,
            Principal::Share { .. } => "share link",
        }
    }

    /// The person, `None` for the built-in admin and share sessions.
    pub fn person(&self) -> Option<&str> {
        match self {
            Principal::Person { person, .. } => person.as_deref(),
            Principal::Share { .. } => None,
        }
    }

    /// The role, `None` for share sessions.
    pub fn role(&self) -> Option<Role> {
        match self {
            Principal::Person { role, .. } => Some(*role),
            Principal::Share { .. } => None,
        }
    }

    /// The browser session behind this request, if any.
    pub fn session(&self) -> Option<i64> {
        match self {
            Principal::Person { session, .. } => *session,
            Principal::Share { session, .. } => Some(*session),
        }
    }

    /// True for an admin (a person with that role or the built-in one).
    pub fn is_admin(&self) -> bool {
        self.role() == Some(Role::Admin)
    }
}

/// Which share sessions a route serves, besides people with its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shared {
    /// None.
    No,
    /// Those whose link covers the run named by the route's `{id}`.
    Run,
    /// Those of an experiment link, for the experiment named by `{name}`.
    Experiment,
    /// Those of an experiment link listing its runs (`GET /api/runs?experiment=`).
    RunList,
    /// All of them (who am I, logout).
    Any,
}

/// Who may call a route: the lowest role, and which share sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// The lowest role allowed.
    pub role: Role,
    /// Which share sessions are allowed too.
    pub shared: Shared,
}

impl Access {
    /// Reads: viewers and up, no share sessions.
    pub const VIEWER: Access = Access {
        role: Role::Viewer,
        shared: Shared::No,
    };
    /// Changes: editors and up.
    pub const EDITOR: Access = Access {
        role: Role::Editor,
        shared: Shared::No,
    };
    /// Administration.
    pub const ADMIN: Access = Access {
        role: Role::Admin,
        shared: Shared::No,
    };

    /// Reads that share sessions may make too, as `shared` says.
    pub const fn shared(shared: Shared) -> Access {
        Access {
            role: Role::Viewer,
            shared,
        }
    }
}

/// What a share session's request is about, as read from the route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'a> {
    /// The run named by the path, with its experiment (when it exists).
    pub run: Option<(&'a str, Option<&'a str>)>,
    /// The experiment named by the path or by `?experiment=`.
    pub experiment: Option<&'a str>,
}

/// The answer of [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go on.
    Allow,
    /// 403: known, but not allowed.
    Forbid,
}

/// May `principal` call a route with `access`, about `target`?
pub fn decide(principal: &Principal, access: Access, target: &Target<'_>) -> Decision {
    let allowed = match principal {
        Principal::Person { role, .. } => *role >= access.role,
        Principal::Share { scope, .. } => match (access.shared, scope) {
            (Shared::No, _) => false,
            (Shared::Any, _) => true,
            (Shared::Run, ShareScope::Run(id)) => target.run.is_some_and(|(run, _)| run == id),
            (Shared::Run, ShareScope::Experiment(name)) => {
                target.run.is_some_and(|(_, e)| e == Some(name.as_str()))
            }
            (Shared::Experiment | Shared::RunList, ShareScope::Experiment(name)) => {
                target.experiment == Some(name.as_str())
            }
            (Shared::Experiment | Shared::RunList, ShareScope::Run(_)) => false,
        },
    };
    if allowed {
        Decision::Allow
    } else {
        Decision::Forbid
    }
}

/// Errors of people's names, roles and passwords.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeopleError {
    /// Not `viewer`, `editor` or `admin`.
    #[error("unknown role {0:?}: expected viewer, editor or admin")]
    UnknownRole(String),
    /// A name outside the rule.
    #[error(
        "invalid name {0:?}: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
    )]
    InvalidName(String),
    /// The built-in admin's name.
    #[error(
        "the name {BUILTIN_ADMIN:?} is the built-in admin's (the server token): choose another"
    )]
    ReservedName,
    /// Too short or too long.
    #[error("a password needs 8 to 1024 characters")]
    BadPassword,
    /// The hashing library failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Checks a person's name: 1–64 of `[A-Za-z0-9._-]`, starting with a letter or digit,
/// and not [`BUILTIN_ADMIN`].
pub fn check_name(name: &str) -> Result<(), PeopleError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !ok {
        return Err(PeopleError::InvalidName(name.to_owned()));
    }
    if name == BUILTIN_ADMIN {
        return Err(PeopleError::ReservedName);
    }
    Ok(())
}

/// A new secret: 32 random bytes as 64 hex digits.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    hex(&bytes)
}

/// The SHA-256 of a secret, in hex: what the store keeps.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hashes a password with Argon2id and a random salt (a PHC string).
pub fn hash_password(password: &str) -> Result<String, PeopleError> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    if !(8..=1024).contains(&password.chars().count()) {
        return Err(PeopleError::BadPassword);
    }
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PeopleError::Hash(e.to_string()))
}

/// True when `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(role: Role) -> Principal {
        Principal::Person {
            person: Some("ana".into()),
            role,
            session: None,
        }
    }

    fn share(scope: ShareScope) -> Principal {
        Principal::Share {
            link: 1,
            scope,
            session: 1,
        }
    }

    #[test]
    fn roles_and_share_links_decide_access() {
        use Decision::{Allow, Forbid};
        let run_link = share(ShareScope::Run("exp_1_0000000a".into()));
        let exp_link = share(ShareScope::Experiment("exp".into()));
        let this_run = Target {
            run: Some(("exp_1_0000000a", Some("exp"))),
            experiment: None,
        };
        let other_run = Target {
            run: Some(("other_1_0000000b", Some("other"))),
            experiment: None,
        };
        let exp = Target {
            run: None,
            experiment: Some("exp"),
        };
        let none = Target {
            run: None,
            experiment: None,
        };
        let cases: &[(&Principal, Access, &Target, Decision)] = &[
            (&person(Role::Viewer), Access::VIEWER, &none, Allow),
            (&person(Role::Viewer), Access::EDITOR, &none, Forbid),
            (&person(Role::Editor), Access::EDITOR, &none, Allow),
            (&person(Role::Editor), Access::ADMIN, &none, Forbid),
            (&person(Role::Admin), Access::ADMIN, &none, Allow),
            (&Principal::builtin_admin(None), Access::ADMIN, &none, Allow),
            (&run_link, Access::VIEWER, &this_run, Forbid),
            (&run_link, Access::shared(Shared::Run), &this_run, Allow),
            (&run_link, Access::shared(Shared::Run), &other_run, Forbid),
            (&run_link, Access::shared(Shared::Experiment), &exp, Forbid),
            (&run_link, Access::shared(Shared::Any), &none, Allow),
            (&exp_link, Access::shared(Shared::Run), &this_run, Allow),
            (&exp_link, Access::shared(Shared::Run), &other_run, Forbid),
            (&exp_link, Access::shared(Shared::RunList), &exp, Allow),
            (&exp_link, Access::shared(Shared::RunList), &none, Forbid),
            (&exp_link, Access::EDITOR, &this_run, Forbid),
        ];
        for (i, (principal, access, target, expect)) in cases.iter().enumerate() {
            assert_eq!(decide(principal, *access, target), *expect, "case {i}");
        }
    }

    #[test]
    fn names_roles_and_passwords() {
        assert_eq!(check_name("ana.b-c_1"), Ok(()));
        for bad in ["", "-ana", "a b", "ana/..", &"x".repeat(65)] {
            assert!(
                matches!(check_name(bad), Err(PeopleError::InvalidName(_))),
                "{bad}"
            );
        }
        assert_eq!(check_name("admin"), Err(PeopleError::ReservedName));
        assert_eq!(Role::parse("editor"), Ok(Role::Editor));
        assert_eq!(
            Role::parse("owner").unwrap_err().to_string(),
            "unknown role \"owner\": expected viewer, editor or admin"
        );
        assert_eq!(hash_password("short"), Err(PeopleError::BadPassword));
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
        let secret = new_secret();
        assert_eq!(secret.len(), 64);
        assert_ne!(secret, new_secret());
        assert_eq!(hash_secret(&secret).len(), 64);
        assert_ne!(hash_secret(&secret), secret);
    }
}
