//! What both clients (the CLI and the TUI) do the same way: reach the
//! daemon and check its protocol ([`connect`]), run a terminal session in a
//! container ([`exec`]), and listen locally for connections tunnelled to a
//! pod's port ([`forward`]).

pub mod connect;
pub mod exec;
pub mod forward;
