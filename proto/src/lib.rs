//! Timoneiro's wire protocol (`timoneiro.v1`): the gRPC API between the
//! daemon and its clients, and the protocol version both sides check.
//!
//! Nothing else lives here: where the socket is, configuration and
//! rendering are in `timoneiro-client`; the Kubernetes protobuf codec is
//! `timoneiro-kpb`.

/// Generated prost messages and tonic client/server for `timoneiro.v1`.
#[allow(missing_docs, clippy::all)]
pub mod v1 {
    tonic::include_proto!("timoneiro.v1");
}

/// Protocol version spoken by this build. Bump it on any incompatible change
/// to `timoneiro.v1`; clients refuse a daemon with another version.
pub const PROTOCOL_VERSION: u32 = 5;

/// This crate's version, which is also the daemon's and the clients'.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
