//! Timoneiro's integration tests: one binary, a module per area.

mod actions;
mod contexts;
mod deploy;
mod describe;
mod e2e;
mod errors;
mod faults;
mod fidelity;
mod golden;
mod kinds;
mod misuse;
mod namespaces;
mod output;
mod protobuf;
mod proxy;
mod snapshots;
mod socket;
mod streams;
mod tui;
mod wire;
