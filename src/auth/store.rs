//! Users and ACLs, kept in one JSON file (`authStorePath`): loaded at
//! start, rewritten whole and synced before a change is acknowledged.
//!
//! Readers take an `Arc` of the current snapshot (one uncontended read
//! lock and a reference count), so the per-request user lookup costs a
//! hash probe. Writers are serialised: each builds the next snapshot from a
//! copy, writes it to disk, and only then swaps it in.
//!
//! Management calls block on disk: run them off the async workers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::remoting::ResponseCode;
use serde::{Deserialize, Serialize};

use super::model::{
    parse_subject, subject_key, Acl, AclInfo, ModelError, Policy, PolicyType, Resource, User,
    UserInfo, UserPatch, UserStatus, UserType,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot read auth store {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("auth store {path} is not valid JSON: {source}")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("auth store {path}: {detail}")]
    Invalid { path: PathBuf, detail: String },
    #[error("cannot write auth store {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Model(#[from] ModelError),
    // The remarks of Java's AuthenticationMetadataManagerImpl and
    // AuthorizationMetadataManagerImpl.
    #[error("username can not be blank")]
    BlankUsername,
    #[error("password can not be blank")]
    BlankPassword,
    #[error("The user is existed")]
    UserExists,
    #[error("The user is not exist")]
    UserNotFound,
    #[error("The subject of {0} is not exist.")]
    NoSuchSubject(String),
    #[error("The subject is not exist.")]
    SubjectNotFound,
    #[error("The acl is not exist.")]
    AclNotFound,
}

impl StoreError {
    /// The answer to an admin request that failed so (Java's
    /// `AdminBrokerProcessor.handleAuthException`): refusals with their
    /// remark, trouble with the file as a generic system error (logged by
    /// the caller).
    pub fn response(&self) -> (ResponseCode, String) {
        match self {
            StoreError::Read { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Invalid { .. }
            | StoreError::Write { .. } => (
                ResponseCode::SYSTEM_ERROR,
                "An system error occurred, please try again later.".into(),
            ),
            _ => (ResponseCode::NO_PERMISSION, self.to_string()),
        }
    }
}

/// One consistent view of users and ACLs.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    users: HashMap<String, Arc<User>>,
    /// By user name.
    acls: HashMap<String, Arc<Acl>>,
}

impl Snapshot {
    pub fn user(&self, username: &str) -> Option<&Arc<User>> {
        self.users.get(username)
    }

    pub fn acl(&self, username: &str) -> Option<&Arc<Acl>> {
        self.acls.get(username)
    }
}

/// The file: the admin codes' own JSON shapes.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StoreFile {
    #[serde(default)]
    users: Vec<UserInfo>,
    #[serde(default)]
    acls: Vec<AclInfo>,
}

#[derive(Debug)]
pub struct AuthStore {
    path: PathBuf,
    current: RwLock<Arc<Snapshot>>,
    /// Held across a change's copy, write and swap, so changes neither
    /// interleave nor reach disk and memory in different orders.
    writer: Mutex<()>,
}

impl AuthStore {
    /// Loads `path`; a missing file is an empty store (it is written at
    /// the first change).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let snapshot = match std::fs::read(path) {
            Ok(bytes) => load(path, &bytes)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Snapshot::default(),
            Err(source) => {
                return Err(StoreError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        Ok(AuthStore {
            path: path.to_path_buf(),
            current: RwLock::new(Arc::new(snapshot)),
            writer: Mutex::new(()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.read().clone()
    }

    pub fn get_user(&self, username: &str) -> Option<Arc<User>> {
        self.snapshot().users.get(username).cloned()
    }

    /// Users whose name contains `filter` (all for a blank one), by name.
    pub fn list_users(&self, filter: Option<&str>) -> Vec<Arc<User>> {
        let filter = filter.filter(|f| !f.trim().is_empty());
        let snapshot = self.snapshot();
        let mut users: Vec<_> = snapshot
            .users
            .values()
            .filter(|u| filter.is_none_or(|f| u.username.contains(f)))
            .cloned()
            .collect();
        users.sort_by(|a, b| a.username.cmp(&b.username));
        users
    }

    /// A new user: Normal and enabled unless the patch says otherwise.
    pub fn create_user(&self, username: &str, patch: UserPatch) -> Result<(), StoreError> {
        if username.trim().is_empty() {
            return Err(StoreError::BlankUsername);
        }
        let password = patch.password.ok_or(StoreError::BlankPassword)?;
        let user = User {
            username: username.to_string(),
            password,
            user_type: patch.user_type.unwrap_or(UserType::Normal),
            user_status: patch.user_status.unwrap_or(UserStatus::Enable),
        };
        self.change(|next| {
            if next.users.contains_key(username) {
                return Err(StoreError::UserExists);
            }
            next.users.insert(user.username.clone(), Arc::new(user));
            Ok(())
        })
    }

    /// Changes what the patch gives of an existing user.
    pub fn update_user(&self, username: &str, patch: UserPatch) -> Result<(), StoreError> {
        if username.trim().is_empty() {
            return Err(StoreError::BlankUsername);
        }
        self.change(|next| {
            let old = next.users.get(username).ok_or(StoreError::UserNotFound)?;
            let mut user = User::clone(old);
            if let Some(password) = patch.password {
                user.password = password;
            }
            if let Some(user_type) = patch.user_type {
                user.user_type = user_type;
            }
            if let Some(user_status) = patch.user_status {
                user.user_status = user_status;
            }
            next.users.insert(username.to_string(), Arc::new(user));
            Ok(())
        })
    }

    /// Removes a user and its ACL; `Ok(false)` if there was no such user
    /// (Java answers success then too).
    pub fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        if username.trim().is_empty() {
            return Err(StoreError::BlankUsername);
        }
        if self.get_user(username).is_none() {
            return Ok(false);
        }
        self.change(|next| {
            next.acls.remove(username);
            Ok(next.users.remove(username).is_some())
        })
    }

    /// Makes the user a super user at first start: `Ok(true)` if created,
    /// `Ok(false)` if a user of that name exists (left as it is, as Java's
    /// `initUser` does).
    pub fn init_super_user(&self, username: &str, password: &str) -> Result<bool, StoreError> {
        let patch = UserPatch {
            password: Some(password.to_string()).filter(|p| !p.trim().is_empty()),
            user_type: Some(UserType::Super),
            user_status: None,
        };
        match self.create_user(username, patch) {
            Ok(()) => Ok(true),
            Err(StoreError::UserExists) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The ACL of a user that exists (`None`: it has none).
    pub fn get_acl(&self, subject: &str) -> Result<Option<Arc<Acl>>, StoreError> {
        let username = parse_subject(subject)?;
        let snapshot = self.snapshot();
        if !snapshot.users.contains_key(&username) {
            return Err(StoreError::SubjectNotFound);
        }
        Ok(snapshot.acls.get(&username).cloned())
    }

    /// CREATE_ACL and UPDATE_ACL (Java treats them alike): the policies are
    /// merged into the user's ACL, which is made if it has none.
    pub fn put_acl(&self, subject: &str, policies: Vec<Policy>) -> Result<(), StoreError> {
        let username = parse_subject(subject)?;
        self.change(|next| {
            if !next.users.contains_key(&username) {
                return Err(StoreError::NoSuchSubject(subject_key(&username)));
            }
            let acl = match next.acls.get(&username) {
                Some(old) => {
                    let mut acl = Acl::clone(old);
                    acl.merge(policies);
                    acl
                }
                None => {
                    let mut acl = Acl {
                        username: username.clone(),
                        policies: Vec::new(),
                    };
                    // Merged, not taken as is: one policy per type.
                    acl.merge(policies);
                    acl
                }
            };
            next.acls.insert(username, Arc::new(acl));
            Ok(())
        })
    }

    /// DELETE_ACL: with a resource, that entry of the policy of
    /// `policy_type` (Custom if not given), the ACL going once it has no
    /// policy left; without one, the whole ACL.
    pub fn delete_acl(
        &self,
        subject: &str,
        policy_type: Option<PolicyType>,
        resource: Option<&Resource>,
    ) -> Result<(), StoreError> {
        let username = parse_subject(subject)?;
        self.change(|next| {
            if !next.users.contains_key(&username) {
                return Err(StoreError::SubjectNotFound);
            }
            let old = next.acls.get(&username).ok_or(StoreError::AclNotFound)?;
            let Some(resource) = resource else {
                next.acls.remove(&username);
                return Ok(());
            };
            let mut acl = Acl::clone(old);
            acl.remove_entry(policy_type.unwrap_or(PolicyType::Custom), resource);
            if acl.policies.is_empty() {
                next.acls.remove(&username);
            } else {
                next.acls.insert(username.clone(), Arc::new(acl));
            }
            Ok(())
        })
    }

    /// LIST_ACL, by subject: ACLs whose subject contains `subject_filter`;
    /// of those, unless the subject itself contains `resource_filter`
    /// (Java's `LocalAuthorizationMetadataProvider` so), only the entries
    /// whose resource contains it, and only ACLs left with an entry.
    pub fn list_acls(
        &self,
        subject_filter: Option<&str>,
        resource_filter: Option<&str>,
    ) -> Vec<Acl> {
        let subject_filter = subject_filter.filter(|f| !f.trim().is_empty());
        let resource_filter = resource_filter.filter(|f| !f.trim().is_empty());
        let snapshot = self.snapshot();
        let mut out: Vec<Acl> = snapshot
            .acls
            .values()
            .filter_map(|acl| {
                let subject = acl.subject();
                if subject_filter.is_some_and(|f| !subject.contains(f)) {
                    return None;
                }
                let mut acl = Acl::clone(acl);
                if let Some(f) = resource_filter.filter(|f| !subject.contains(f)) {
                    for policy in &mut acl.policies {
                        policy
                            .entries
                            .retain(|e| e.resource.to_string().contains(f));
                    }
                }
                acl.policies.retain(|p| !p.entries.is_empty());
                (!acl.policies.is_empty()).then_some(acl)
            })
            .collect();
        out.sort_by(|a, b| a.username.cmp(&b.username));
        out
    }

    /// Applies `f` to a copy of the current snapshot, persists the result
    /// and swaps it in; on any error nothing changes.
    fn change<T>(
        &self,
        f: impl FnOnce(&mut Snapshot) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _writer = self.writer.lock();
        let mut next = Snapshot::clone(&self.snapshot());
        let out = f(&mut next)?;
        let bytes = to_file_bytes(&next);
        crate::disk::write_atomically_private(&self.path, &bytes).map_err(|source| {
            StoreError::Write {
                path: self.path.clone(),
                source,
            }
        })?;
        *self.current.write() = Arc::new(next);
        Ok(out)
    }
}

fn to_file_bytes(snapshot: &Snapshot) -> Vec<u8> {
    let mut users: Vec<_> = snapshot
        .users
        .values()
        .map(|u| UserInfo::from_user(u))
        .collect();
    users.sort_by(|a, b| a.username.cmp(&b.username));
    let mut acls: Vec<_> = snapshot
        .acls
        .values()
        .map(|a| AclInfo::from_acl(a))
        .collect();
    acls.sort_by(|a, b| a.subject.cmp(&b.subject));
    let mut bytes = serde_json::to_vec_pretty(&StoreFile { users, acls }).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

fn load(path: &Path, bytes: &[u8]) -> Result<Snapshot, StoreError> {
    let file: StoreFile = serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |detail: String| StoreError::Invalid {
        path: path.to_path_buf(),
        detail,
    };
    let mut snapshot = Snapshot::default();
    for (i, info) in file.users.iter().enumerate() {
        let username = info
            .username
            .clone()
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| invalid(format!("users[{i}]: no username")))?;
        let patch = info
            .patch()
            .map_err(|e| invalid(format!("user {username}: {e}")))?;
        let password = patch
            .password
            .ok_or_else(|| invalid(format!("user {username}: no password")))?;
        let user = User {
            username: username.clone(),
            password,
            user_type: patch.user_type.unwrap_or(UserType::Normal),
            user_status: patch.user_status.unwrap_or(UserStatus::Enable),
        };
        if snapshot
            .users
            .insert(username.clone(), Arc::new(user))
            .is_some()
        {
            return Err(invalid(format!("user {username} is listed twice")));
        }
    }
    for (i, info) in file.acls.iter().enumerate() {
        let subject = info.subject.as_deref().unwrap_or_default();
        let username = parse_subject(subject).map_err(|e| invalid(format!("acls[{i}]: {e}")))?;
        let policies = info
            .policies()
            .map_err(|e| invalid(format!("acl of {subject}: {e}")))?;
        let mut acl = Acl {
            username: username.clone(),
            policies: Vec::new(),
        };
        acl.merge(policies);
        if snapshot.acls.insert(username, Arc::new(acl)).is_some() {
            return Err(invalid(format!("the acl of {subject} is listed twice")));
        }
    }
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::model::{Action, Decision, PolicyEntry};

    fn open(dir: &tempfile::TempDir) -> AuthStore {
        AuthStore::open(&dir.path().join("auth.json")).unwrap()
    }

    fn patch(password: &str) -> UserPatch {
        UserPatch {
            password: Some(password.into()),
            ..UserPatch::default()
        }
    }

    fn policy(resource: &str, decision: Decision) -> Vec<Policy> {
        vec![Policy {
            policy_type: PolicyType::Custom,
            entries: vec![PolicyEntry {
                resource: resource.parse().unwrap(),
                actions: vec![Action::Pub],
                source_ips: vec![],
                decision,
            }],
        }]
    }

    #[test]
    fn users_are_persisted_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        assert!(store.get_user("alice").is_none());
        store.create_user("alice", patch("pw")).unwrap();
        store.create_user("bob", patch("pw2")).unwrap();
        assert!(matches!(
            store.create_user("alice", patch("x")),
            Err(StoreError::UserExists)
        ));
        assert!(matches!(
            store.create_user("carol", UserPatch::default()),
            Err(StoreError::BlankPassword)
        ));
        assert!(matches!(
            store.create_user(" ", patch("x")),
            Err(StoreError::BlankUsername)
        ));
        store
            .update_user(
                "bob",
                UserPatch {
                    user_status: Some(UserStatus::Disable),
                    ..UserPatch::default()
                },
            )
            .unwrap();
        assert!(matches!(
            store.update_user("nobody", patch("x")),
            Err(StoreError::UserNotFound)
        ));

        let again = open(&dir);
        let bob = again.get_user("bob").unwrap();
        assert_eq!(
            (bob.password.as_str(), bob.user_status),
            ("pw2", UserStatus::Disable)
        );
        assert_eq!(again.get_user("alice").unwrap().user_type, UserType::Normal);
        let names: Vec<_> = again
            .list_users(None)
            .iter()
            .map(|u| u.username.clone())
            .collect();
        assert_eq!(names, ["alice", "bob"]);
        assert_eq!(again.list_users(Some("li")).len(), 1);
        assert_eq!(again.list_users(Some("")).len(), 2);
    }

    #[test]
    fn acls_merge_delete_and_follow_their_user() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        assert!(matches!(
            store.put_acl("User:alice", policy("Topic:a", Decision::Allow)),
            Err(StoreError::NoSuchSubject(s)) if s == "User:alice"
        ));
        store.create_user("alice", patch("pw")).unwrap();
        assert!(store.get_acl("User:alice").unwrap().is_none());
        store
            .put_acl("User:alice", policy("Topic:a", Decision::Allow))
            .unwrap();
        store
            .put_acl("User:alice", policy("Topic:b", Decision::Allow))
            .unwrap();
        store
            .put_acl("User:alice", policy("Topic:a", Decision::Deny))
            .unwrap();
        let acl = open(&dir).get_acl("User:alice").unwrap().unwrap();
        let entries = &acl.policy(PolicyType::Custom).unwrap().entries;
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].decision, Decision::Deny);

        assert_eq!(store.list_acls(Some("alice"), None).len(), 1);
        assert!(store.list_acls(Some("bob"), None).is_empty());
        let only_b = store.list_acls(None, Some("Topic:b"));
        assert_eq!(only_b[0].policies[0].entries.len(), 1);
        assert!(store.list_acls(None, Some("Topic:zzz")).is_empty());

        let a: Resource = "Topic:a".parse().unwrap();
        store.delete_acl("User:alice", None, Some(&a)).unwrap();
        store
            .delete_acl("User:alice", None, Some(&"Topic:b".parse().unwrap()))
            .unwrap();
        assert!(store.get_acl("User:alice").unwrap().is_none());
        assert!(matches!(
            store.delete_acl("User:alice", None, None),
            Err(StoreError::AclNotFound)
        ));
        assert!(matches!(
            store.delete_acl("User:nobody", None, None),
            Err(StoreError::SubjectNotFound)
        ));
        assert!(matches!(store.get_acl("alice"), Err(StoreError::Model(_))));

        store
            .put_acl("User:alice", policy("Topic:a", Decision::Allow))
            .unwrap();
        assert!(store.delete_user("alice").unwrap());
        assert!(!store.delete_user("alice").unwrap());
        store.create_user("alice", patch("pw")).unwrap();
        assert!(store.get_acl("User:alice").unwrap().is_none());
    }

    #[test]
    fn init_super_user_only_when_absent() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        assert!(store.init_super_user("root", "secret").unwrap());
        assert!(!store.init_super_user("root", "other").unwrap());
        let root = store.get_user("root").unwrap();
        assert_eq!(
            (root.user_type, root.password.as_str()),
            (UserType::Super, "secret")
        );
        assert!(matches!(
            store.init_super_user("x", ""),
            Err(StoreError::BlankPassword)
        ));
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        std::fs::write(&path, "{ not json").unwrap();
        let err = AuthStore::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("auth.json"));
        std::fs::write(
            &path,
            r#"{"users":[{"username":"a","password":"p","userType":"Root"}]}"#,
        )
        .unwrap();
        assert!(AuthStore::open(&path)
            .unwrap_err()
            .to_string()
            .contains("Root"));
        std::fs::write(&path, r#"{"acls":[{"subject":"a","policies":[]}]}"#).unwrap();
        assert!(matches!(
            AuthStore::open(&path),
            Err(StoreError::Invalid { .. })
        ));
        // A directory in the way of the file: a write error, nothing changed.
        let blocked = dir.path().join("blocked");
        std::fs::create_dir_all(blocked.join("auth.json.tmp")).unwrap();
        let store = AuthStore::open(&blocked.join("auth.json")).unwrap();
        let err = store.create_user("a", patch("p")).unwrap_err();
        assert!(matches!(err, StoreError::Write { .. }), "{err}");
        assert_eq!(
            err.response(),
            (
                ResponseCode::SYSTEM_ERROR,
                "An system error occurred, please try again later.".into()
            )
        );
        assert_eq!(
            StoreError::UserExists.response(),
            (ResponseCode::NO_PERMISSION, "The user is existed".into())
        );
        assert!(store.get_user("a").is_none());
    }

    #[test]
    fn file_is_private_and_in_the_wire_shape() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        store.create_user("alice", patch("pw")).unwrap();
        store
            .put_acl("User:alice", policy("Topic:a*", Decision::Allow))
            .unwrap();
        let path = dir.path().join("auth.json");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(json["users"][0]["userType"], "Normal");
        assert_eq!(json["users"][0]["userStatus"], "enable");
        assert_eq!(json["acls"][0]["subject"], "User:alice");
        assert_eq!(
            json["acls"][0]["policies"][0]["entries"][0]["resource"],
            "Topic:a*"
        );
    }
}
