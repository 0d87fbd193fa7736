//! Kubeconfig as kubectl resolves it: `--kubeconfig`, else `$KUBECONFIG`
//! (several paths, merged, first value wins, missing files skipped), else
//! `~/.kube/config`; `--context` overrides the current context.

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::cluster::ContextInfo;
use crate::errors::error_chain;

/// Errors of finding and reading a kubeconfig.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    /// No kubeconfig file exists where kubectl would look.
    #[error("no kubeconfig found: {0}; pass --kubeconfig FILE or set KUBECONFIG")]
    NotFound(String),
    /// A file could not be read or parsed.
    #[error("invalid kubeconfig {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The context does not exist.
    #[error("context {name:?} is not in the kubeconfig ({files}); contexts there: {}", list(.available))]
    UnknownContext {
        /// The context asked for.
        name: String,
        /// The files read.
        files: String,
        /// Contexts that exist.
        available: Vec<String>,
    },
    /// Neither `--context` nor `current-context` names a context.
    #[error("the kubeconfig ({files}) sets no current-context; pass --context NAME (contexts: {})", list(.available))]
    NoContext {
        /// The files read.
        files: String,
        /// Contexts that exist.
        available: Vec<String>,
    },
    /// kube could not build a client configuration from the context.
    #[error("cannot use context {context:?} from {files}: {message}")]
    Unusable {
        /// The context.
        context: String,
        /// The files read.
        files: String,
        /// kube's explanation.
        message: String,
    },
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// A loaded kubeconfig and the files it came from.
#[derive(Debug)]
pub struct Loaded {
    /// The merged kubeconfig.
    pub kubeconfig: Kubeconfig,
    /// The files read, in precedence order.
    pub files: Vec<PathBuf>,
}

impl Loaded {
    fn files_text(&self) -> String {
        self.files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Names of every context.
    pub fn context_names(&self) -> Vec<String> {
        self.kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.clone())
            .collect()
    }

    /// The context to serve: `explicit`, else current-context.
    pub fn pick_context(&self, explicit: Option<&str>) -> Result<String, KubeconfigError> {
        let available = self.context_names();
        let name = match explicit.or(self.kubeconfig.current_context.as_deref()) {
            Some(name) if !name.is_empty() => name.to_string(),
            _ => {
                return Err(KubeconfigError::NoContext {
                    files: self.files_text(),
                    available,
                });
            }
        };
        if !available.contains(&name) {
            return Err(KubeconfigError::UnknownContext {
                name,
                files: self.files_text(),
                available,
            });
        }
        Ok(name)
    }

    /// The client configuration and facts of a context.
    pub async fn client_config(
        &self,
        context: &str,
    ) -> Result<(kube::Config, ContextInfo), KubeconfigError> {
        let options = KubeConfigOptions {
            context: Some(context.to_string()),
            ..KubeConfigOptions::default()
        };
        let unusable = |message: String| KubeconfigError::Unusable {
            context: context.to_string(),
            files: self.files_text(),
            message,
        };
        let mut config = kube::Config::from_custom_kubeconfig(self.kubeconfig.clone(), &options)
            .await
            .map_err(|e| unusable(error_chain(&e)))?;
        let named = self
            .kubeconfig
            .contexts
            .iter()
            .find(|c| c.name == context)
            .and_then(|c| c.context.as_ref());
        // kubectl's choice of proxy replaces kube's (`crate::proxy`).
        let proxy_url = named
            .and_then(|c| {
                self.kubeconfig
                    .clusters
                    .iter()
                    .find(|named| named.name == c.cluster)
            })
            .and_then(|c| c.cluster.as_ref())
            .and_then(|c| c.proxy_url.as_deref());
        config.proxy_url = crate::proxy::for_server(proxy_url, &config.cluster_url, |name| {
            std::env::var(name).ok()
        })
        .map_err(unusable)?;
        if let Some(proxy) = &config.proxy_url {
            tracing::info!(context, %proxy, "reaching the API server through a proxy");
        }
        let namespace = named
            .and_then(|c| c.namespace.clone())
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| "default".to_string());
        let info = ContextInfo {
            name: context.to_string(),
            server: config.cluster_url.to_string(),
            fallback_namespaces: vec![namespace.clone()],
            namespace,
        };
        Ok((config, info))
    }
}

fn read(path: &Path) -> Result<Kubeconfig, KubeconfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| KubeconfigError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Kubeconfig::from_yaml(&text).map_err(|e| KubeconfigError::Invalid {
        path: path.to_path_buf(),
        message: error_chain(&e),
    })
}

/// Find and read the kubeconfig as kubectl does.
pub fn load(explicit: Option<&Path>) -> Result<Loaded, KubeconfigError> {
    if let Some(path) = explicit {
        if !path.exists() {
            return Err(KubeconfigError::Invalid {
                path: path.to_path_buf(),
                message: "no such file".into(),
            });
        }
        return Ok(Loaded {
            kubeconfig: read(path)?,
            files: vec![path.to_path_buf()],
        });
    }
    if let Some(value) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let listed: Vec<PathBuf> = std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        let existing: Vec<PathBuf> = listed.iter().filter(|p| p.exists()).cloned().collect();
        if existing.is_empty() {
            let shown = listed
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(KubeconfigError::NotFound(format!(
                "none of the KUBECONFIG files exist ({shown})"
            )));
        }
        let mut merged = Kubeconfig::default();
        for path in &existing {
            merged = merged
                .merge(read(path)?)
                .map_err(|e| KubeconfigError::Invalid {
                    path: path.clone(),
                    message: error_chain(&e),
                })?;
        }
        return Ok(Loaded {
            kubeconfig: merged,
            files: existing,
        });
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).ok_or_else(|| {
        KubeconfigError::NotFound("HOME is not set, so ~/.kube/config cannot be found".into())
    })?;
    let path = home.join(".kube").join("config");
    if !path.exists() {
        return Err(KubeconfigError::NotFound(format!(
            "{} does not exist",
            path.display()
        )));
    }
    Ok(Loaded {
        kubeconfig: read(&path)?,
        files: vec![path],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"
apiVersion: v1
kind: Config
current-context: one
clusters:
- name: c1
  cluster: {server: "http://127.0.0.1:1"}
users:
- name: u1
  user: {token: abc}
contexts:
- name: one
  context: {cluster: c1, user: u1, namespace: shop}
"#;

    const TWO: &str = r#"
apiVersion: v1
kind: Config
current-context: two
clusters:
- name: c2
  cluster: {server: "http://127.0.0.1:2"}
users:
- name: u2
  user: {token: def}
contexts:
- name: two
  context: {cluster: c2, user: u2}
"#;

    #[test]
    fn explicit_file_errors_name_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope");
        let err = load(Some(&missing)).unwrap_err().to_string();
        assert!(
            err.contains("nope") && err.contains("no such file"),
            "{err}"
        );
        let bad = dir.path().join("bad");
        std::fs::write(&bad, "clusters: [not: {valid").expect("write");
        let err = load(Some(&bad)).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("invalid kubeconfig {}", bad.display())),
            "{err}"
        );
    }

    #[tokio::test]
    async fn contexts_resolve_with_namespaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config");
        std::fs::write(&path, ONE).expect("write");
        let loaded = load(Some(&path)).expect("load");
        assert_eq!(loaded.pick_context(None).expect("current"), "one");
        let err = loaded.pick_context(Some("prod")).unwrap_err().to_string();
        assert!(
            err.contains("\"prod\"") && err.contains("contexts there: one"),
            "{err}"
        );
        let (config, info) = loaded.client_config("one").await.expect("config");
        assert_eq!(info.namespace, "shop");
        assert_eq!(config.cluster_url.to_string(), "http://127.0.0.1:1/");
    }

    #[test]
    fn merged_files_keep_the_first_current_context() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, ONE).expect("write");
        std::fs::write(&b, TWO).expect("write");
        let mut merged = read(&b)
            .expect("b")
            .merge(read(&a).expect("a"))
            .expect("merge");
        assert_eq!(merged.current_context.as_deref(), Some("two"));
        merged.contexts.sort_by(|x, y| x.name.cmp(&y.name));
        assert_eq!(merged.contexts.len(), 2);
    }
}
