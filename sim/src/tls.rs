//! The sim's own certificate authority: a CA made at start, a serving
//! certificate for the listen address signed by it, and the CA's PEM for the
//! kubeconfig, so clients verify the sim exactly as they verify a real
//! cluster (certificate-authority-data + a bearer token). A client may
//! instead authenticate with a certificate this CA signed (mutual TLS, as
//! kubeadm's admin.conf does): `Authority::client_identity`.

use std::net::IpAddr;
use std::sync::Arc;

use anyhow::Context as _;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority: its certificate (PEM) and what signs with it.
pub struct Authority {
    /// The CA certificate, PEM, for `certificate-authority-data`.
    pub pem: String,
    der: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

impl Authority {
    /// A fresh CA named `name`.
    pub fn new(name: &str) -> anyhow::Result<Authority> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().context("generating the CA key")?;
        let certificate = params.self_signed(&key).context("signing the CA")?;
        Ok(Authority {
            pem: certificate.pem(),
            der: certificate.der().to_vec(),
            issuer: Issuer::new(params, key),
        })
    }

    /// A client certificate and its key (PEM) for the user `name`, signed
    /// by this CA: `client-certificate-data` and `client-key-data`.
    pub fn client_identity(&self, name: &str) -> anyhow::Result<(String, String)> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().context("generating the client key")?;
        let certificate = params
            .signed_by(&key, &self.issuer)
            .context("signing the client certificate")?;
        Ok((certificate.pem(), key.serialize_pem()))
    }

    /// A TLS acceptor serving a certificate for `ip` (and `localhost`) signed by this CA.
    pub fn acceptor(&self, ip: IpAddr) -> anyhow::Result<TlsAcceptor> {
        let mut params = CertificateParams::new(vec!["localhost".to_string(), ip.to_string()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        let key = KeyPair::generate().context("generating the serving key")?;
        let certificate = params
            .signed_by(&key, &self.issuer)
            .context("signing the serving certificate")?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // A client certificate is asked for, not required: bearer tokens
        // work as well; one signed by this CA authenticates its user.
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.der.clone()))
            .context("the CA as a root")?;
        let clients = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .allow_unauthenticated()
        .build()
        .context("the client certificate verifier")?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(clients)
            .with_single_cert(
                vec![CertificateDer::from(certificate.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .context("the serving certificate")?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authority_signs_a_serving_certificate() {
        let ca = Authority::new("test CA").expect("CA");
        assert!(
            ca.pem.starts_with("-----BEGIN CERTIFICATE-----"),
            "{}",
            ca.pem
        );
        ca.acceptor(IpAddr::from([127, 0, 0, 1])).expect("acceptor");
        assert_ne!(Authority::new("other").expect("CA").pem, ca.pem);
    }
}
