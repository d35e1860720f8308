//! A small request/response remoting client: one connection, one request in
//! flight at a time, every step bounded by a timeout. It is what the admin
//! CLI talks with (to NameServers, brokers and controllers); it knows frames,
//! not what they mean.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_util::codec::Framed;

use super::codec::{CodecError, RemotingCodec, DEFAULT_MAX_FRAME};
use super::command::{RemotingCommand, SerializeType};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connect to {addr} failed: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error("TLS handshake with {addr} failed: {source}")]
    Handshake {
        addr: String,
        source: std::io::Error,
    },
    #[error("TLS client setup: {0}")]
    TlsSetup(String),
    #[error("connect to {addr} timed out after {} ms", .after.as_millis())]
    ConnectTimeout { addr: String, after: Duration },
    #[error("wait response on the channel <{addr}> timed out after {} ms", .after.as_millis())]
    Timeout { addr: String, after: Duration },
    #[error("send request to <{addr}> failed: {source}")]
    Send { addr: String, source: CodecError },
    #[error("the channel <{addr}> is broken: {source}")]
    Receive { addr: String, source: CodecError },
    #[error("the channel <{addr}> was closed before the response arrived")]
    Closed { addr: String },
}

/// A client's socket, plaintext or TLS.
trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Io for T {}

/// How a client reaches its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Plain,
    /// TLS, trusting any server certificate and presenting none, as Java's
    /// client does by default (`tls.client.authServer=false`).
    Tls,
}

pub struct RemotingClient {
    addr: String,
    conn: Framed<Box<dyn Io>, RemotingCodec>,
    timeout: Duration,
    serialize_type: SerializeType,
    next_opaque: i32,
}

impl RemotingClient {
    /// Connects to `addr` (`host:port`) within `timeout`; the same bound then
    /// applies to each call.
    pub async fn connect(addr: &str, timeout: Duration) -> Result<Self, ClientError> {
        Self::connect_over(addr, timeout, Transport::Plain).await
    }

    /// As [`connect`](Self::connect), over `transport`; the TLS handshake
    /// is bounded by the same `timeout`.
    pub async fn connect_over(
        addr: &str,
        timeout: Duration,
        transport: Transport,
    ) -> Result<Self, ClientError> {
        let opened = async {
            let tcp = TcpStream::connect(addr)
                .await
                .map_err(|source| ClientError::Connect {
                    addr: addr.to_string(),
                    source,
                })?;
            // Requests are small and answered one at a time: Nagle would only add delay.
            let _ = tcp.set_nodelay(true);
            let stream: Box<dyn Io> = match transport {
                Transport::Plain => Box::new(tcp),
                Transport::Tls => Box::new(handshake(addr, tcp).await?),
            };
            Ok(stream)
        };
        let stream = match tokio::time::timeout(timeout, opened).await {
            Ok(opened) => opened?,
            Err(_) => {
                return Err(ClientError::ConnectTimeout {
                    addr: addr.to_string(),
                    after: timeout,
                })
            }
        };
        Ok(RemotingClient {
            addr: addr.to_string(),
            conn: Framed::new(stream, RemotingCodec::new(DEFAULT_MAX_FRAME)),
            timeout,
            serialize_type: SerializeType::Json,
            next_opaque: 0,
        })
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The header codec used for requests (JSON unless set).
    pub fn set_serialize_type(&mut self, serialize_type: SerializeType) {
        self.serialize_type = serialize_type;
    }

    /// Sends `request` (its opaque is replaced) and waits for the response
    /// with the same opaque. Anything else the peer sends meanwhile (a request
    /// of its own, a stale response) is skipped.
    pub async fn call(
        &mut self,
        mut request: RemotingCommand,
    ) -> Result<RemotingCommand, ClientError> {
        self.next_opaque = self.next_opaque.wrapping_add(1);
        let opaque = self.next_opaque;
        request.opaque = opaque;
        request.serialize_type = self.serialize_type;
        let addr = &self.addr;
        let conn = &mut self.conn;
        let exchange = async {
            conn.send(request)
                .await
                .map_err(|source| ClientError::Send {
                    addr: addr.clone(),
                    source,
                })?;
            loop {
                match conn.next().await {
                    Some(Ok(resp)) if resp.is_response() && resp.opaque == opaque => {
                        return Ok(resp)
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(source)) => {
                        return Err(ClientError::Receive {
                            addr: addr.clone(),
                            source,
                        })
                    }
                    None => return Err(ClientError::Closed { addr: addr.clone() }),
                }
            }
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(ClientError::Timeout {
                addr: self.addr.clone(),
                after: self.timeout,
            }),
        }
    }

    /// Sends a one-way request (no response expected) and flushes it.
    pub async fn send_oneway(&mut self, mut request: RemotingCommand) -> Result<(), ClientError> {
        self.next_opaque = self.next_opaque.wrapping_add(1);
        request.opaque = self.next_opaque;
        request.serialize_type = self.serialize_type;
        request = request.mark_oneway();
        match tokio::time::timeout(self.timeout, self.conn.send(request)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(ClientError::Send {
                addr: self.addr.clone(),
                source,
            }),
            Err(_) => Err(ClientError::Timeout {
                addr: self.addr.clone(),
                after: self.timeout,
            }),
        }
    }
}

async fn handshake(
    addr: &str,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ClientError> {
    let config = client_config()?;
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    let name = ServerName::try_from(host.trim_matches(['[', ']']).to_string())
        .map_err(|e| ClientError::TlsSetup(format!("server name {host}: {e}")))?;
    TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|source| ClientError::Handshake {
            addr: addr.to_string(),
            source,
        })
}

/// One client configuration for the process: it depends on nothing configured.
fn client_config() -> Result<Arc<rustls::ClientConfig>, ClientError> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map(|builder| {
                    Arc::new(
                        builder
                            .dangerous()
                            .with_custom_certificate_verifier(Arc::new(AnyServer(provider)))
                            .with_no_client_auth(),
                    )
                })
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(ClientError::TlsSetup)
}

/// Accepts any server certificate (signatures are still checked, so the
/// handshake is sound); the channel is encrypted, the server not authenticated.
#[derive(Debug)]
struct AnyServer(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Connects, sends one request and returns its response.
pub async fn call_once(
    addr: &str,
    request: RemotingCommand,
    timeout: Duration,
) -> Result<RemotingCommand, ClientError> {
    let mut client = RemotingClient::connect(addr, timeout).await?;
    client.call(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remoting::{RequestCode, ResponseCode};
    use tokio::net::TcpListener;

    async fn serve_once<F>(answer: F) -> String
    where
        F: FnOnce(RemotingCommand) -> Vec<RemotingCommand> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut conn = Framed::new(stream, RemotingCodec::default());
            if let Some(Ok(req)) = conn.next().await {
                for out in answer(req) {
                    conn.send(out).await.unwrap();
                }
                // Keep the connection open until the client is done.
                let _ = conn.next().await;
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_call_returns_the_response_with_its_opaque_skipping_others() {
        let addr = serve_once(|req| {
            let stale = RemotingCommand {
                opaque: req.opaque + 100,
                ..req.response(ResponseCode::SYSTEM_ERROR, None)
            };
            let server_request = RemotingCommand::request(RequestCode::GET_KV_CONFIG.value(), 7);
            let ok = req.response(ResponseCode::SUCCESS, Some("fine".into()));
            vec![stale, server_request, ok]
        })
        .await;
        let resp = call_once(
            &addr,
            RemotingCommand::request(RequestCode::GET_BROKER_CLUSTER_INFO.value(), 0),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert_eq!(resp.code, 0);
        assert_eq!(resp.remark.as_deref(), Some("fine"));
    }

    #[tokio::test]
    async fn a_silent_peer_times_out_naming_the_address() {
        let addr = serve_once(|_| vec![]).await;
        let err = call_once(
            &addr,
            RemotingCommand::request(RequestCode::GET_BROKER_CLUSTER_INFO.value(), 0),
            Duration::from_millis(200),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ClientError::Timeout { .. }), "{err}");
        assert!(err.to_string().contains(&addr), "{err}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_connect_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        drop(listener);
        let err = RemotingClient::connect(&addr, Duration::from_secs(5))
            .await
            .err()
            .unwrap();
        assert!(matches!(err, ClientError::Connect { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_peer_that_closes_is_reported() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            drop(stream);
        });
        let err = call_once(
            &addr,
            RemotingCommand::request(RequestCode::GET_BROKER_CLUSTER_INFO.value(), 0),
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                err,
                ClientError::Closed { .. } | ClientError::Receive { .. } | ClientError::Send { .. }
            ),
            "{err}"
        );
    }
}
