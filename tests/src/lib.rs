//! Shared helpers of Timoneiro's end-to-end and golden tests: the recorded
//! fixtures, and a harness that runs the simulator, the daemon and the CLI
//! as real processes on temporary sockets and ports.

pub mod fixtures;
pub mod harness;
pub mod proxy;
pub mod relay;
