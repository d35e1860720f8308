//! The servers a command talks to, and the connections it opened to them.
//! A command borrows the context mutably, so connections are reused across
//! the requests of one command and closed when it ends.

use std::collections::HashMap;
use std::time::Duration;

use super::error::AdminError;
use crate::remoting::{RemotingClient, RemotingCommand, ResponseCode};

pub struct Context {
    namesrvs: Vec<String>,
    timeout: Duration,
    clients: HashMap<String, RemotingClient>,
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
        }
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
        request: RemotingCommand,
    ) -> Result<RemotingCommand, AdminError> {
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
