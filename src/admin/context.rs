//! The servers a command talks to, and the connections it opened to them.
//! A command borrows the context mutably, so connections are reused across
//! the requests of one command and closed when it ends.

use std::collections::HashMap;
use std::time::Duration;

use super::error::AdminError;
use crate::auth::signature::sign_request;
use crate::remoting::{RemotingClient, RemotingCommand, ResponseCode};

pub struct Context {
    namesrvs: Vec<String>,
    timeout: Duration,
    clients: HashMap<String, RemotingClient>,
    /// Every request is signed with these when set.
    credentials: Option<Credentials>,
}

/// An access key and its secret, as RocketMQ's `AclClientRPCHook` signs
/// with them.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
}

/// The secret stays out of debug output and logs.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ***)", self.access_key)
    }
}

impl Credentials {
    /// Reads mqadmin's `conf/tools.yml`: the `accessKey:` and `secretKey:`
    /// lines (the file holds nothing else that matters here). `None` when
    /// either is missing.
    pub fn from_tools_yml(text: &str) -> Option<Credentials> {
        let value = |key: &str| {
            text.lines().find_map(|line| {
                let (k, v) = line.split_once(':')?;
                (k.trim() == key).then(|| v.trim().trim_matches(['"', '\'']).to_string())
            })
        };
        let access_key = value("accessKey").filter(|v| !v.is_empty())?;
        let secret_key = value("secretKey").filter(|v| !v.is_empty())?;
        Some(Credentials {
            access_key,
            secret_key,
        })
    }
}

/// Splits a `;`-separated address list as mqadmin does (blanks dropped).
pub fn split_addrs(list: &str) -> Vec<String> {
    list.split(';')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect()
}

impl Context {
    pub fn new(namesrvs: Vec<String>, timeout: Duration) -> Self {
        Context {
            namesrvs,
            timeout,
            clients: HashMap::new(),
            credentials: None,
        }
    }

    /// Signs every request from now on.
    pub fn with_credentials(mut self, credentials: Option<Credentials>) -> Self {
        self.credentials = credentials;
        self
    }

    pub fn namesrvs(&self) -> Result<&[String], AdminError> {
        if self.namesrvs.is_empty() {
            return Err(AdminError::NoNamesrv);
        }
        Ok(&self.namesrvs)
    }

    /// Sends `request` to `addr`, reusing an open connection. A connection
    /// that failed is dropped so the next call reconnects.
    pub async fn call(
        &mut self,
        addr: &str,
        mut request: RemotingCommand,
    ) -> Result<RemotingCommand, AdminError> {
        if let Some(c) = &self.credentials {
            let body = request.body.clone();
            sign_request(&mut request.ext_fields, &body, &c.access_key, &c.secret_key);
        }
        let mut client = match self.clients.remove(addr) {
            Some(client) => client,
            None => RemotingClient::connect(addr, self.timeout).await?,
        };
        let resp = client.call(request).await?;
        self.clients.insert(addr.to_string(), client);
        Ok(resp)
    }

    /// As `call`, but anything but SUCCESS is an error naming the server.
    pub async fn call_ok(
        &mut self,
        addr: &str,
        request: RemotingCommand,
    ) -> Result<RemotingCommand, AdminError> {
        let resp = self.call(addr, request).await?;
        expect_success(addr, resp)
    }

    /// Sends `request` to the first NameServer of the list that can be
    /// reached, as Java's remoting client does for a request without an
    /// address; a server that answers (even with an error) ends the search.
    pub async fn namesrv_call_ok(
        &mut self,
        request: RemotingCommand,
    ) -> Result<(String, RemotingCommand), AdminError> {
        let addrs = self.namesrvs()?.to_vec();
        let mut last = None;
        for addr in addrs {
            match self.call(&addr, request.clone()).await {
                Ok(resp) => return Ok((addr.clone(), expect_success(&addr, resp)?)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(AdminError::NoNamesrv))
    }
}

pub fn expect_success(addr: &str, resp: RemotingCommand) -> Result<RemotingCommand, AdminError> {
    if resp.code == ResponseCode::SUCCESS.value() {
        Ok(resp)
    } else {
        Err(AdminError::Refused {
            addr: addr.to_string(),
            code: resp.code,
            remark: resp.remark,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_lists_split_on_semicolons_and_drop_blanks() {
        assert_eq!(
            split_addrs(" 127.0.0.1:9876; ;10.0.0.1:9876;"),
            vec!["127.0.0.1:9876".to_string(), "10.0.0.1:9876".to_string()]
        );
        assert!(split_addrs("").is_empty());
    }
}
