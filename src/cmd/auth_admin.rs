//! AUTH_CREATE_USER (3001) to AUTH_LIST_ACL (3010): the Auth 2.0 admin
//! requests Java's `mqadmin createUser/createAcl/listUser/...` send, served
//! from the NameServer's own user and ACL store. Answers follow Java's
//! `AdminBrokerProcessor`: a missing user or ACL on a get is an empty
//! SUCCESS, a list with nothing in it has no body, store refusals carry
//! the store's remark.

use std::sync::Arc;

use serde::Serialize;

use super::{blocking, CmdError, Header};
use crate::auth::model::{AclInfo, PolicyType, Resource, UserInfo};
use crate::auth::store::StoreError;
use crate::remoting::{RemotingCommand, RequestCode, ResponseCode};
use crate::state::shared::Shared;

/// One parsed admin request.
pub enum AuthAdmin {
    CreateUser(String, UserInfo),
    UpdateUser(String, UserInfo),
    DeleteUser(String),
    GetUser(String),
    ListUsers(Option<String>),
    /// Create and update both merge the policies into the subject's ACL,
    /// as Java's do.
    PutAcl(String, AclInfo),
    DeleteAcl {
        subject: String,
        policy_type: Option<PolicyType>,
        resource: Option<Resource>,
    },
    GetAcl(String),
    ListAcls {
        subject: Option<String>,
        resource: Option<String>,
    },
}

/// An answer other than SUCCESS: its code and remark.
type Refused = (ResponseCode, String);

fn invalid(remark: impl Into<String>) -> Refused {
    (ResponseCode::INVALID_PARAMETER, remark.into())
}

impl AuthAdmin {
    pub fn parse(code: RequestCode, req: &RemotingCommand) -> Result<Self, CmdError> {
        use RequestCode::*;
        let h = Header(&req.ext_fields);
        let owned = |f: &'static str| h.optional(f).map(str::to_string);
        let user = || owned("username").unwrap_or_default();
        let subject = || owned("subject").unwrap_or_default();
        Ok(match code {
            AUTH_CREATE_USER => AuthAdmin::CreateUser(user(), body(req)?),
            AUTH_UPDATE_USER => AuthAdmin::UpdateUser(user(), body(req)?),
            AUTH_DELETE_USER => AuthAdmin::DeleteUser(user()),
            AUTH_GET_USER => AuthAdmin::GetUser(user()),
            AUTH_LIST_USER => AuthAdmin::ListUsers(owned("filter")),
            AUTH_CREATE_ACL | AUTH_UPDATE_ACL => AuthAdmin::PutAcl(subject(), body(req)?),
            AUTH_DELETE_ACL => AuthAdmin::DeleteAcl {
                subject: subject(),
                policy_type: non_blank(h.optional("policyType"))
                    .map(str::parse)
                    .transpose()
                    .map_err(|e| CmdError::Body(format!("policyType: {e}")))?,
                // Java turns a resource it cannot parse into "the whole
                // ACL"; refusing it keeps a typo from deleting that.
                resource: non_blank(h.optional("resource"))
                    .map(str::parse)
                    .transpose()
                    .map_err(|e| CmdError::Body(format!("resource: {e}")))?,
            },
            AUTH_GET_ACL => AuthAdmin::GetAcl(subject()),
            AUTH_LIST_ACL => AuthAdmin::ListAcls {
                subject: owned("subjectFilter"),
                resource: owned("resourceFilter"),
            },
            other => {
                return Err(CmdError::Internal(format!(
                    "{other:?} is no auth admin request"
                )))
            }
        })
    }

    /// Store changes are on disk before the answer goes out.
    pub async fn apply(
        self,
        shared: &Arc<Shared>,
        req: &RemotingCommand,
    ) -> Result<RemotingCommand, CmdError> {
        let auth = shared.auth.clone();
        let answer = blocking(move || Ok::<_, CmdError>(self.run(&auth))).await?;
        Ok(match answer {
            Ok(None) => req.response(ResponseCode::SUCCESS, None),
            Ok(Some(body)) => req.response(ResponseCode::SUCCESS, None).with_body(body),
            Err((code, remark)) => req.response(code, Some(remark)),
        })
    }

    fn run(self, auth: &crate::auth::Auth) -> Result<Option<Vec<u8>>, Refused> {
        let store = auth.store();
        let done = |r: Result<(), StoreError>| r.map(|()| None);
        let result: Result<Option<Vec<u8>>, StoreError> = match self {
            AuthAdmin::CreateUser(name, info) | AuthAdmin::UpdateUser(name, info)
                if name.trim().is_empty() =>
            {
                let _ = info;
                return Err(invalid("The username is blank"));
            }
            AuthAdmin::CreateUser(name, info) => {
                let patch = info.patch().map_err(|e| invalid(e.to_string()))?;
                done(store.create_user(&name, patch))
            }
            AuthAdmin::UpdateUser(name, info) => {
                let patch = info.patch().map_err(|e| invalid(e.to_string()))?;
                done(store.update_user(&name, patch))
            }
            AuthAdmin::DeleteUser(name) => store.delete_user(&name).map(|_| None),
            AuthAdmin::GetUser(name) => Ok(store
                .get_user(&name)
                .map(|u| json(&UserInfo::from_user(&u)))),
            AuthAdmin::ListUsers(filter) => {
                let users: Vec<UserInfo> = store
                    .list_users(filter.as_deref())
                    .iter()
                    .map(|u| UserInfo::from_user(u))
                    .collect();
                Ok((!users.is_empty()).then(|| json(&users)))
            }
            AuthAdmin::PutAcl(subject, info) => {
                let policies = info.policies().map_err(|e| invalid(e.to_string()))?;
                done(store.put_acl(&subject, policies))
            }
            AuthAdmin::DeleteAcl {
                subject,
                policy_type,
                resource,
            } => done(store.delete_acl(&subject, policy_type, resource.as_ref())),
            AuthAdmin::GetAcl(subject) => store
                .get_acl(&subject)
                .map(|acl| acl.map(|a| json(&AclInfo::from_acl(&a)))),
            AuthAdmin::ListAcls { subject, resource } => {
                let acls: Vec<AclInfo> = store
                    .list_acls(subject.as_deref(), resource.as_deref())
                    .iter()
                    .map(AclInfo::from_acl)
                    .collect();
                Ok((!acls.is_empty()).then(|| json(&acls)))
            }
        };
        result.map_err(|e| {
            let (code, remark) = e.response();
            if code == ResponseCode::SYSTEM_ERROR {
                tracing::error!(error = %e, "auth store");
            }
            (code, remark)
        })
    }
}

fn body<T: serde::de::DeserializeOwned>(req: &RemotingCommand) -> Result<T, CmdError> {
    serde_json::from_slice(&req.body).map_err(|e| CmdError::Body(format!("bad body: {e}")))
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising plain strings and enums into memory cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn non_blank(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.trim().is_empty())
}
