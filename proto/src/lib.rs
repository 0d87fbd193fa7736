//! Timoneiro's wire protocol (`timoneiro.v1`), where the daemon's socket
//! lives, how clients connect to it, and how clients render cells.
//!
//! The daemon and every client depend on this crate, so anything both sides
//! must agree on lives here and nowhere else.

pub mod autostart;
pub mod jsonpath;
pub mod render;
pub mod socket;

/// Generated prost messages and tonic client/server for `timoneiro.v1`.
#[allow(missing_docs, clippy::all)]
pub mod v1 {
    tonic::include_proto!("timoneiro.v1");
}

/// Protocol version spoken by this build. Bump it on any incompatible change
/// to `timoneiro.v1`; clients refuse a daemon with another version.
pub const PROTOCOL_VERSION: u32 = 1;

/// This crate's version, which is also the daemon's and the clients'.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
