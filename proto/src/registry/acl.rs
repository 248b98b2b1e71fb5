//! Registry ACL (trust-registry.md §2.8): the lists under `_aster/acl/` and
//! the read-time author filter built from them.
//!
//! iroh-docs replicates every author's entries; the ACL decides, when
//! reading, whose entries count. Until a `writers` list exists the registry
//! is *open* (every author counts), as in the reference. Once one exists,
//! only listed authors' entries are read.

use std::collections::BTreeSet;

use super::json::{RecordError, check_size, parse, python_default_string_list};
use super::keys::{AclKind, RegistryKey};
use super::resolve::DocEntry;

/// Most entries in one ACL list (the reference's `MAX_ACL_LIST_SIZE`).
pub const MAX_ACL_LIST_LEN: usize = 10_000;
/// Largest ACL value accepted, in bytes: 10,000 AuthorIds of 64 hex digits
/// with quotes and separators is ~700 KB.
pub const MAX_ACL_VALUE_LEN: usize = 1024 * 1024;

/// One ACL list: AuthorIds, in stored order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AclList(pub Vec<String>);

impl AclList {
    /// The bytes the reference's `RegistryACL._persist` writes: a *default*
    /// `json.dumps(list)`, i.e. `["a", "b"]` with a space after each comma
    /// (not the compact form the other records use). The reference writes its
    /// set in hash order; we write the given order, so callers wanting
    /// reproducible bytes should sort first.
    pub fn encode(&self) -> Vec<u8> {
        python_default_string_list(&self.0)
    }

    /// Reads a stored list: a JSON array of strings, at most
    /// [`MAX_ACL_LIST_LEN`] of them. The reference truncates longer lists
    /// to their first 10,000 entries and silently drops anything that is not
    /// a list; we refuse both, and [`RegistryAcl::from_entries`] turns a
    /// refused writers list into "trust nobody" rather than "trust everybody".
    pub fn decode(bytes: &[u8]) -> Result<AclList, RecordError> {
        check_size("ACL list", bytes, MAX_ACL_VALUE_LEN)?;
        let list: Vec<String> = parse("ACL list", bytes)?;
        if list.len() > MAX_ACL_LIST_LEN {
            return Err(RecordError::TooManyAclEntries {
                len: list.len(),
                max: MAX_ACL_LIST_LEN,
            });
        }
        Ok(AclList(list))
    }
}

/// The read-time filter (§2.8).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RegistryAcl {
    /// No writers list: every author is trusted.
    #[default]
    Open,
    /// A writers list exists: only these authors are trusted.
    Restricted {
        /// Trusted writers.
        writers: BTreeSet<String>,
        /// Readers (kept, not enforced: the reference does not either).
        readers: BTreeSet<String>,
        /// Admins (kept, not enforced).
        admins: BTreeSet<String>,
    },
}

impl RegistryAcl {
    /// A restricted ACL trusting exactly `writers`.
    pub fn restricted<I: IntoIterator<Item = S>, S: Into<String>>(writers: I) -> RegistryAcl {
        RegistryAcl::Restricted {
            writers: writers.into_iter().map(Into::into).collect(),
            readers: BTreeSet::new(),
            admins: BTreeSet::new(),
        }
    }

    /// Whether `author`'s entries count.
    pub fn is_trusted_writer(&self, author: &str) -> bool {
        match self {
            RegistryAcl::Open => true,
            RegistryAcl::Restricted { writers, .. } => writers.contains(author),
        }
    }

    /// The ACL a doc snapshot defines, as the reference's `RegistryACL.reload`
    /// computes it, with two deliberate differences:
    ///
    /// * Which entry of a list counts: the one written by `admin` when given
    ///   (the reference prefers its own author's entry); otherwise — or when
    ///   `admin` wrote none — the newest by timestamp (ties: smallest author
    ///   id). The reference takes whichever entry the doc query returns
    ///   first. Note that without `admin`, any author can write the list:
    ///   pass the registry owner's AuthorId to make the ACL mean something.
    /// * A writers entry that exists but cannot be read (not a list of
    ///   strings, over the caps, empty) gives a restricted ACL with *no*
    ///   writers — fail closed. The reference stays open in that case
    ///   (or, for an empty value, raises out of `reload`).
    ///
    /// Unreadable readers/admins lists read as empty (they change nothing).
    pub fn from_entries(entries: &[DocEntry], admin: Option<&str>) -> RegistryAcl {
        let pick = |kind: AclKind| -> Option<&DocEntry> {
            let key = RegistryKey::acl(kind).to_bytes();
            let rows = entries.iter().filter(|e| e.key == key);
            if let Some(admin) = admin {
                if let Some(own) = rows
                    .clone()
                    .filter(|e| e.author == admin)
                    .max_by(|a, b| newest(a, b))
                {
                    return Some(own);
                }
            }
            rows.max_by(|a, b| newest(a, b))
        };
        let Some(writers_entry) = pick(AclKind::Writers) else {
            return RegistryAcl::Open;
        };
        let read = |e: Option<&DocEntry>| -> BTreeSet<String> {
            e.and_then(|e| AclList::decode(&e.value).ok())
                .map(|l| l.0.into_iter().collect())
                .unwrap_or_default()
        };
        RegistryAcl::Restricted {
            writers: read(Some(writers_entry)),
            readers: read(pick(AclKind::Readers)),
            admins: read(pick(AclKind::Admins)),
        }
    }
}

/// Orders entries so that the max is the "newest": the highest timestamp,
/// and on equal timestamps the *smallest* author id — the entry Python's
/// `max(entries, key=timestamp)` keeps, since iroh-docs returns a key's
/// entries sorted by author and `max` keeps the first of equal maxima.
pub(crate) fn newest(a: &DocEntry, b: &DocEntry) -> std::cmp::Ordering {
    a.timestamp
        .cmp(&b.timestamp)
        .then_with(|| b.author.cmp(&a.author))
}
