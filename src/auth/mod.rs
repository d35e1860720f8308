//! Authentication and authorization of requests (issue 25), as the Java
//! broker's Auth 2.0 (`org.apache.rocketmq.auth`) does them: a request is
//! signed with a user's secret ([`signature`]); the user's ACL
//! ([`model::Acl`]) decides what it may touch ([`authorize`]). Users and
//! ACLs live in one JSON file ([`store`]).
//!
//! [`Auth`] is what the dispatcher holds: the settings of
//! [`crate::config::AuthConfig`] and the store. It does not know which
//! resource a request code touches; the dispatcher hands it [`Access`]es.
//! Refusals carry Java's remarks and go out as NO_PERMISSION.

pub(crate) mod access;
pub mod authorize;

pub mod model;
pub mod signature;
pub mod store;

use std::net::IpAddr;
use std::sync::Arc;

use crate::config::auth::InnerCredentials;
use crate::config::AuthConfig;
use crate::remoting::command::ExtFields;
use crate::remoting::ResponseCode;

use authorize::Verdict;
use model::{Action, Resource, User, UserStatus};
use store::{AuthStore, StoreError};

/// A user as the store holds it.
pub type UserRef = Arc<User>;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Java: "Init authentication user error." and "Init inner client
    /// authentication credentials error".
    #[error("cannot create the {key} user: {source}")]
    InitUser {
        key: &'static str,
        source: StoreError,
    },
}

/// A refused request: answered with [`Refusal::CODE`] and this remark.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{remark}")]
pub struct Refusal {
    pub remark: String,
}

impl Refusal {
    /// Java's pipelines answer both kinds of refusal so.
    pub const CODE: ResponseCode = ResponseCode::NO_PERMISSION;

    fn new(remark: impl Into<String>) -> Self {
        Refusal {
            remark: remark.into(),
        }
    }
}

/// What a request touches and the actions it needs there; any one of them
/// granted is enough (Java's `DefaultAuthorizationContext`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access<'a> {
    pub resource: Resource,
    pub actions: &'a [Action],
}

#[derive(Debug)]
pub struct Auth {
    config: AuthConfig,
    store: AuthStore,
}

impl Auth {
    /// Loads the store at `authStorePath` and makes the configured super
    /// users that are not there yet (Java's `initUser`). Blocks on disk.
    pub fn open(config: &AuthConfig) -> Result<Auth, AuthError> {
        let store = AuthStore::open(std::path::Path::new(&config.auth_store_path))?;
        if let Some(u) = &config.init_authentication_user {
            store
                .init_super_user(&u.username, &u.password)
                .map_err(|source| AuthError::InitUser {
                    key: "initAuthenticationUser",
                    source,
                })?;
        }
        if let Some(c) = &config.inner_client_authentication_credentials {
            store
                .init_super_user(&c.access_key, &c.secret_key)
                .map_err(|source| AuthError::InitUser {
                    key: "innerClientAuthenticationCredentials",
                    source,
                })?;
        }
        Ok(Auth {
            config: config.clone(),
            store,
        })
    }

    /// Users and ACLs, for the admin codes 3001-3010.
    pub fn store(&self) -> &AuthStore {
        &self.store
    }

    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// What to sign our own outgoing requests with, if configured.
    pub fn inner_credentials(&self) -> Option<&InnerCredentials> {
        self.config.inner_client_authentication_credentials.as_ref()
    }

    /// Checks the signature of a request (`code`, header `version`,
    /// `fields`, `body`) from `source_ip`. `Ok(None)`: not checked
    /// (authentication off, a whitelisted code or source).
    pub fn authenticate(
        &self,
        code: i32,
        version: i32,
        fields: &ExtFields,
        body: &[u8],
        source_ip: IpAddr,
    ) -> Result<Option<UserRef>, Refusal> {
        if !self.config.authentication_enabled
            || self.exempt(code, &self.config.authentication_whitelist, source_ip)
        {
            return Ok(None);
        }
        // DefaultAuthenticationHandler's remarks.
        let username = match fields.get(signature::ACCESS_KEY) {
            Some(name) if !name.is_empty() => name,
            _ => return Err(Refusal::new("username cannot be null.")),
        };
        let Some(user) = self.store.get_user(username) else {
            return Err(Refusal::new(format!("User:{username} is not found.")));
        };
        if user.user_status == UserStatus::Disable {
            return Err(Refusal::new(format!("User:{username} is disabled.")));
        }
        if !signature::verify(fields, body, version, &user.password) {
            return Err(Refusal::new("check signature failed."));
        }
        Ok(Some(user))
    }

    /// Checks that the user named by the request's `AccessKey` may do what
    /// `accesses` say from `source_ip`. Passes when authorization is off,
    /// for whitelisted codes and sources, and (as in Java, which then has
    /// nothing to check) for requests without extFields or accesses.
    pub fn authorize(
        &self,
        code: i32,
        fields: &ExtFields,
        accesses: &[Access<'_>],
        source_ip: IpAddr,
    ) -> Result<(), Refusal> {
        if !self.config.authorization_enabled
            || self.exempt(code, &self.config.authorization_whitelist, source_ip)
            || fields.is_empty()
            || accesses.is_empty()
        {
            return Ok(());
        }
        // Java fails on the missing subject with this generic remark.
        let Some(username) = fields.get(signature::ACCESS_KEY) else {
            return Err(Refusal::new(
                "Authorization failed. Please verify your access rights and try again.",
            ));
        };
        let snapshot = self.store.snapshot();
        // UserAuthorizationHandler's remarks. Java tests the status of the
        // subject it built, which never has one; the stored user's is
        // meant, and matters when authentication is off.
        let Some(user) = snapshot.user(username) else {
            return Err(Refusal::new(format!("User:{username} not found.")));
        };
        if user.user_status == UserStatus::Disable {
            return Err(Refusal::new(format!("User:{username} is disabled.")));
        }
        let acl = snapshot.acl(username).map(Arc::as_ref);
        let ip = crate::config::cidr::canonical(source_ip);
        for access in accesses {
            let verdict = authorize::decide(user, acl, &access.resource, access.actions, ip);
            if verdict != Verdict::Allowed {
                // AclAuthorizationHandler.throwException.
                return Err(Refusal::new(format!(
                    "{} has no permission to access {} from {}, {}",
                    model::subject_key(username),
                    access.resource,
                    ip,
                    verdict.detail()
                )));
            }
        }
        Ok(())
    }

    /// The user `username` when `password` is theirs and they are enabled:
    /// HTTP Basic authentication on the HTTP listener.
    pub fn check_password(&self, username: &str, password: &str) -> Result<UserRef, Refusal> {
        let Some(user) = self.store.get_user(username) else {
            return Err(Refusal::new(format!("User:{username} is not found.")));
        };
        if user.user_status == UserStatus::Disable {
            return Err(Refusal::new(format!("User:{username} is disabled.")));
        }
        if !signature::constant_time_eq(user.password.as_bytes(), password.as_bytes()) {
            return Err(Refusal::new("check signature failed."));
        }
        Ok(user)
    }

    /// Whether any request is checked at all: the dispatcher's one test
    /// when neither is on.
    pub fn checks_requests(&self) -> bool {
        self.config.authentication_enabled || self.config.authorization_enabled
    }

    /// Checks that the request's user is a super user: what the NameServer
    /// asks of requests that change its own tables (KV, configuration,
    /// topics and permissions set by hand, users and ACLs), which Java maps
    /// to no resource a policy could name. `what` names them in the remark.
    pub fn require_super(
        &self,
        code: i32,
        fields: &ExtFields,
        what: &str,
        source_ip: IpAddr,
    ) -> Result<(), Refusal> {
        if !self.config.authorization_enabled
            || self.exempt(code, &self.config.authorization_whitelist, source_ip)
        {
            return Ok(());
        }
        let Some(username) = fields.get(signature::ACCESS_KEY) else {
            return Err(Refusal::new(
                "Authorization failed. Please verify your access rights and try again.",
            ));
        };
        match self.store.get_user(username) {
            None => Err(Refusal::new(format!("User:{username} not found."))),
            Some(user) if user.user_status == UserStatus::Disable => {
                Err(Refusal::new(format!("User:{username} is disabled.")))
            }
            Some(user) if user.user_type == model::UserType::Super => Ok(()),
            Some(_) => Err(Refusal::new(format!(
                "{} has no permission to access {what} from {}, only super users may.",
                model::subject_key(username),
                crate::config::cidr::canonical(source_ip)
            ))),
        }
    }

    /// A whitelisted request code (Java's whitelists) or source (ours).
    fn exempt(&self, code: i32, codes: &crate::config::auth::CodeList, source_ip: IpAddr) -> bool {
        codes.contains(code)
            || self
                .config
                .authentication_source_whitelist
                .contains(source_ip)
    }
}

#[cfg(test)]
mod tests;
