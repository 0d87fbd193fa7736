//! What both clients (the CLI and the TUI) do with the daemon's
//! bidirectional streams: a terminal session in a container
//! ([`exec`]) and local listeners whose connections are tunnelled to a
//! pod's port ([`forward`]).

pub mod exec;
pub mod forward;
