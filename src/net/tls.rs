//! TLS on the client port, configured like Java's `TlsSystemConfig`:
//! `tls.server.mode` decides what a connection may be, told apart by its
//! first byte (0x16 opens a TLS handshake; no plaintext frame can start with
//! it under the frame limit, as its length would be over 350 MiB).
//! Certificates are PEM files, re-read when they change on disk.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parking_lot::RwLock;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use crate::config::properties;
use crate::config::{ClientAuth, ConfigError, TlsConfig, TlsMode};
use crate::net::stream::Stream;

/// First byte of a TLS record carrying a handshake.
const HANDSHAKE_RECORD: u8 = 0x16;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} {path}: {reason}")]
    Pem {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("{0}")]
    Config(String),
    #[error("{path}: {source}")]
    ConfigFile { path: PathBuf, source: ConfigError },
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("cannot generate the test-mode certificate: {0}")]
    SelfSigned(#[from] rcgen::Error),
}

/// Why a connection was refused before its first request.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("closed before sending anything")]
    Eof,
    #[error("TLS handshake but no usable certificate (see the start-up log)")]
    NoCertificate,
    #[error("plaintext request while tls.server.mode is enforcing")]
    Plaintext,
    #[error("TLS handshake failed: {0}")]
    Handshake(std::io::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The effective TLS settings: `config`, overlaid (all but the mode and the
/// file's own name) by `tls.config.file` when that file exists, as Java does.
pub fn effective_settings(config: &TlsConfig) -> Result<TlsConfig, TlsError> {
    let mut settings = config.clone();
    let path = PathBuf::from(&config.tls_config_file);
    if !path.is_file() {
        return Ok(settings);
    }
    let text = std::fs::read_to_string(&path).map_err(|source| TlsError::Read {
        what: "tls.config.file",
        path: path.clone(),
        source,
    })?;
    let pairs = properties::parse(&text).map_err(|e| TlsError::Pem {
        what: "tls.config.file",
        path: path.clone(),
        reason: e.to_string(),
    })?;
    for (key, value) in pairs {
        if key == "tls.server.mode" || key == "tls.config.file" {
            continue;
        }
        settings
            .set(&key, &value)
            .map_err(|source| TlsError::ConfigFile {
                path: path.clone(),
                source,
            })?;
    }
    Ok(settings)
}

/// The TLS side of the listener: the mode and the current acceptor.
pub struct Tls {
    mode: TlsMode,
    settings: TlsConfig,
    acceptor: RwLock<Option<TlsAcceptor>>,
}

impl Tls {
    /// Builds the acceptor the mode needs. In enforcing mode a certificate
    /// that cannot be loaded is a start-up error; in permissive mode it is
    /// logged and TLS handshakes are refused, as the Java server does.
    pub fn new(settings: TlsConfig) -> Result<Tls, TlsError> {
        let mode = settings.tls_mode;
        let acceptor = match mode {
            TlsMode::Disabled => None,
            TlsMode::Permissive => match server_config(&settings) {
                Ok(config) => Some(TlsAcceptor::from(Arc::new(config))),
                Err(err) => {
                    tracing::error!(error = %err, "TLS unavailable; serving plaintext only");
                    None
                }
            },
            TlsMode::Enforcing => Some(TlsAcceptor::from(Arc::new(server_config(&settings)?))),
        };
        Ok(Tls {
            mode,
            settings,
            acceptor: RwLock::new(acceptor),
        })
    }

    pub fn disabled() -> Tls {
        Tls {
            mode: TlsMode::Disabled,
            settings: TlsConfig::default(),
            acceptor: RwLock::new(None),
        }
    }

    pub fn mode(&self) -> TlsMode {
        self.mode
    }

    /// Decides from the first byte whether `tcp` speaks TLS, and either
    /// completes the handshake or refuses the connection per the mode.
    pub async fn accept(&self, tcp: TcpStream) -> Result<Stream, Refused> {
        if self.mode == TlsMode::Disabled {
            // Java still peeks in disabled mode to close TLS handshakes; a
            // plaintext peer sees no difference, so only peek when it matters.
            return Ok(Stream::Plain(tcp));
        }
        let mut first = [0u8; 1];
        if tcp.peek(&mut first).await? == 0 {
            return Err(Refused::Eof);
        }
        if first[0] != HANDSHAKE_RECORD {
            return match self.mode {
                TlsMode::Enforcing => Err(Refused::Plaintext),
                _ => Ok(Stream::Plain(tcp)),
            };
        }
        let acceptor = self.acceptor.read().clone();
        let acceptor = acceptor.ok_or(Refused::NoCertificate)?;
        let tls = acceptor.accept(tcp).await.map_err(Refused::Handshake)?;
        Ok(Stream::Tls(Box::new(tls)))
    }

    /// Re-reads the certificate, key and trust files whenever one changes
    /// (checked every `period`), so certificates rotate without a restart.
    /// A set of files that does not load (say, a new certificate whose key
    /// is not written yet) keeps the previous one in service.
    pub async fn watch_files(self: Arc<Self>, period: Duration) {
        if self.mode == TlsMode::Disabled {
            return;
        }
        let paths: Vec<PathBuf> = [
            &self.settings.tls_server_cert_path,
            &self.settings.tls_server_key_path,
            &self.settings.tls_server_trust_cert_path,
        ]
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .collect();
        if paths.is_empty() {
            return;
        }
        let mut last = fingerprint(&paths);
        let mut interval = tokio::time::interval(period);
        loop {
            interval.tick().await;
            let now = fingerprint(&paths);
            if now == last {
                continue;
            }
            last = now;
            let settings = self.settings.clone();
            let built = tokio::task::spawn_blocking(move || server_config(&settings)).await;
            match built {
                Ok(Ok(config)) => {
                    *self.acceptor.write() = Some(TlsAcceptor::from(Arc::new(config)));
                    tracing::info!("TLS certificate files changed; reloaded");
                }
                Ok(Err(err)) => {
                    tracing::warn!(error = %err, "TLS certificate files changed but do not load; keeping the previous ones")
                }
                Err(err) => tracing::warn!(error = %err, "TLS reload task failed"),
            }
        }
    }
}

/// Modification time, length and inode: a file renamed over the old one
/// (as certificate tools do) changes at least the inode.
type Fingerprint = Vec<Option<(SystemTime, u64, u64)>>;

fn fingerprint(paths: &[PathBuf]) -> Fingerprint {
    paths
        .iter()
        .map(|p| {
            let meta = std::fs::metadata(p).ok()?;
            Some((meta.modified().ok()?, meta.len(), meta.ino()))
        })
        .collect()
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls server configuration `settings` describe.
pub fn server_config(settings: &TlsConfig) -> Result<rustls::ServerConfig, TlsError> {
    let provider = provider();
    let (certs, key) = certificate(settings)?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match settings.tls_server_need_client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        auth => builder.with_client_cert_verifier(client_verifier(settings, auth, provider)?),
    };
    Ok(builder.with_single_cert(certs, key)?)
}

/// The configured certificate and key, or in test mode without a configured
/// certificate a self-signed one made now (Java's test mode always
/// self-signs; using a configured certificate when there is one is what an
/// operator who set the paths means).
fn certificate(
    settings: &TlsConfig,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let cert_path = &settings.tls_server_cert_path;
    let key_path = &settings.tls_server_key_path;
    if cert_path.is_empty() || key_path.is_empty() {
        if !settings.tls_test_mode_enable {
            return Err(TlsError::Config(
                "tls.server.certPath and tls.server.keyPath must be set when tls.test.mode.enable=false".into(),
            ));
        }
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
        let key = PrivatePkcs8KeyDer::from(generated.signing_key.serialize_der());
        tracing::info!("TLS test mode: serving a self-signed certificate");
        return Ok((vec![generated.cert.der().clone()], key.into()));
    }
    let certs = read_certs("tls.server.certPath", Path::new(cert_path))?;
    let key = read_key(
        Path::new(key_path),
        !settings.tls_server_key_password.is_empty(),
    )?;
    Ok((certs, key))
}

fn read_certs(what: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem_error = |reason: String| TlsError::Pem {
        what,
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(e.to_string()))?;
    if certs.is_empty() {
        return Err(pem_error("no PEM CERTIFICATE found".into()));
    }
    Ok(certs)
}

fn read_key(path: &Path, has_password: bool) -> Result<PrivateKeyDer<'static>, TlsError> {
    const WHAT: &str = "tls.server.keyPath";
    let bytes = std::fs::read(path).map_err(|source| TlsError::Read {
        what: WHAT,
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(TlsError::Pem {
            what: WHAT,
            path: path.to_path_buf(),
            reason: "encrypted private keys are not supported; decrypt it (openssl pkcs8 -in key.pem -out plain.pem) and drop tls.server.keyPassword".into(),
        });
    }
    if has_password {
        tracing::warn!("tls.server.keyPassword is set but the key is not encrypted; ignoring it");
    }
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| TlsError::Pem {
        what: WHAT,
        path: path.to_path_buf(),
        reason: format!("no usable PRIVATE KEY ({e})"),
    })
}

fn client_verifier(
    settings: &TlsConfig,
    auth: ClientAuth,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    let mandatory = auth == ClientAuth::Require;
    if !settings.tls_server_auth_client {
        // Java's InsecureTrustManagerFactory: a certificate is asked for but
        // any is accepted.
        return Ok(Arc::new(AnyClientCert {
            mandatory,
            provider,
        }));
    }
    let trust_path = &settings.tls_server_trust_cert_path;
    if trust_path.is_empty() {
        return Err(TlsError::Config(
            "tls.server.authClient=true needs tls.server.trustCertPath".into(),
        ));
    }
    let mut roots = RootCertStore::empty();
    for cert in read_certs("tls.server.trustCertPath", Path::new(trust_path))? {
        roots.add(cert)?;
    }
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
    let builder = if mandatory {
        builder
    } else {
        builder.allow_unauthenticated()
    };
    builder
        .build()
        .map_err(|e| TlsError::Config(format!("client certificate verifier: {e}")))
}

/// Accepts any client certificate whose handshake signature is valid.
#[derive(Debug)]
struct AnyClientCert {
    mandatory: bool,
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
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
            &self.provider.signature_verification_algorithms,
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
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;

    fn write_pair(dir: &Path) -> (PathBuf, PathBuf) {
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, generated.cert.pem()).unwrap();
        std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
        (cert, key)
    }

    #[test]
    fn test_mode_self_signs_and_configured_files_load() {
        let settings = TlsConfig::default();
        assert!(server_config(&settings).is_ok());

        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = write_pair(dir.path());
        let mut settings = TlsConfig::default();
        settings.tls_test_mode_enable = false;
        settings.tls_server_cert_path = cert.display().to_string();
        settings.tls_server_key_path = key.display().to_string();
        assert!(server_config(&settings).is_ok());
        settings.tls_server_need_client_auth = ClientAuth::Require;
        settings.tls_server_auth_client = true;
        settings.tls_server_trust_cert_path = cert.display().to_string();
        assert!(server_config(&settings).is_ok());
    }

    #[test]
    fn errors_name_the_file_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = TlsConfig::default();
        settings.tls_test_mode_enable = false;
        let err = server_config(&settings).unwrap_err().to_string();
        assert!(err.contains("tls.server.certPath"), "{err}");

        let (cert, _) = write_pair(dir.path());
        let encrypted = dir.path().join("enc.pem");
        std::fs::write(
            &encrypted,
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        )
        .unwrap();
        settings.tls_server_cert_path = cert.display().to_string();
        settings.tls_server_key_path = encrypted.display().to_string();
        let err = server_config(&settings).unwrap_err().to_string();
        assert!(
            err.contains("encrypted") && err.contains("enc.pem"),
            "{err}"
        );

        settings.tls_server_key_path = cert.display().to_string();
        let err = server_config(&settings).unwrap_err().to_string();
        assert!(err.contains("PRIVATE KEY"), "{err}");

        settings.tls_server_cert_path = dir.path().join("missing.pem").display().to_string();
        let err = server_config(&settings).unwrap_err().to_string();
        assert!(err.contains("missing.pem"), "{err}");

        let (_, key) = write_pair(dir.path());
        settings.tls_server_cert_path = cert.display().to_string();
        settings.tls_server_key_path = key.display().to_string();
        settings.tls_server_need_client_auth = ClientAuth::Optional;
        settings.tls_server_auth_client = true;
        let err = server_config(&settings).unwrap_err().to_string();
        assert!(err.contains("trustCertPath"), "{err}");
    }

    #[test]
    fn enforcing_without_certificate_fails_but_permissive_starts() {
        let mut settings = TlsConfig::default();
        settings.tls_test_mode_enable = false;
        settings.tls_mode = TlsMode::Enforcing;
        assert!(Tls::new(settings.clone()).is_err());
        settings.tls_mode = TlsMode::Permissive;
        let tls = Tls::new(settings).unwrap();
        assert!(tls.acceptor.read().is_none());
    }

    #[test]
    fn config_file_overrides_all_but_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tls.properties");
        std::fs::write(
            &file,
            "tls.server.mode=disabled\ntls.test.mode.enable=false\ntls.server.certPath=/c.pem\n",
        )
        .unwrap();
        let mut config = TlsConfig::default();
        config.tls_config_file = file.display().to_string();
        config.tls_mode = TlsMode::Enforcing;
        let effective = effective_settings(&config).unwrap();
        assert_eq!(effective.tls_mode, TlsMode::Enforcing);
        assert!(!effective.tls_test_mode_enable);
        assert_eq!(effective.tls_server_cert_path, "/c.pem");

        std::fs::write(&file, "tls.server.authClient=perhaps\n").unwrap();
        let err = effective_settings(&config).unwrap_err().to_string();
        assert!(
            err.contains("tls.properties") && err.contains("perhaps"),
            "{err}"
        );
    }
}
