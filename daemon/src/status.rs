//! Sync status of one kind's cache, and the signal that tells watchers of
//! the status that something changed.

use std::time::Instant;

use timoneiro_proto::v1;

/// Where a kind's cache stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncState {
    /// Not started.
    Pending,
    /// Initial list in progress.
    Loading,
    /// Mirrors the API server.
    Synced,
    /// The API server refused or could not be reached before the first sync.
    Error,
    /// Was synced; the watch broke and is retrying. Last good data is served.
    Stale,
}

/// A kind's status.
#[derive(Debug, Clone)]
pub struct SyncStatus {
    /// Current state.
    pub state: SyncState,
    /// Objects cached (while loading: received so far).
    pub objects: u64,
    /// Time the first sync took, once synced.
    pub sync_millis: Option<u64>,
    /// The API server's or the transport's message for Error and Stale.
    pub message: String,
    /// When the state last changed (Unix ms).
    pub since_unix_ms: i64,
    /// When the informer started, for the sync time.
    pub started: Option<Instant>,
    /// The namespaces cached when RBAC forbids a cluster-wide list; empty otherwise.
    pub scope: Vec<String>,
    /// How the kind travels: "protobuf", "json", or why JSON.
    pub encoding: String,
    /// Full LISTs after the first, and why the last one happened.
    pub relists: u64,
    pub last_relist_reason: String,
}

impl Default for SyncStatus {
    fn default() -> Self {
        SyncStatus {
            state: SyncState::Pending,
            objects: 0,
            sync_millis: None,
            message: String::new(),
            since_unix_ms: timoneiro_client::render::now_unix_ms(),
            started: None,
            scope: Vec::new(),
            encoding: String::new(),
            relists: 0,
            last_relist_reason: String::new(),
        }
    }
}

impl SyncStatus {
    /// Move to `state`, stamping the time when it changes.
    pub fn set(&mut self, state: SyncState, message: impl Into<String>) {
        if self.state != state {
            self.since_unix_ms = timoneiro_client::render::now_unix_ms();
        }
        self.state = state;
        self.message = message.into();
    }

    /// The wire form.
    pub fn to_proto(&self, spec: &crate::catalog::KindSpec) -> v1::KindStatus {
        v1::KindStatus {
            kind: spec.plural.clone(),
            state: match self.state {
                SyncState::Pending => v1::SyncState::Pending,
                SyncState::Loading => v1::SyncState::Loading,
                SyncState::Synced => v1::SyncState::Synced,
                SyncState::Error => v1::SyncState::Error,
                SyncState::Stale => v1::SyncState::Stale,
            } as i32,
            objects: self.objects,
            tier: spec.tier,
            sync_millis: self.sync_millis.unwrap_or(0),
            message: self.message.clone(),
            since_unix_ms: self.since_unix_ms,
            short_names: spec.short_names.clone(),
            singular: spec.singular.clone(),
            group: spec.group.clone(),
            scope_namespaces: self.scope.clone(),
            encoding: self.encoding.clone(),
            relists: self.relists,
            last_relist_reason: self.last_relist_reason.clone(),
        }
    }
}
