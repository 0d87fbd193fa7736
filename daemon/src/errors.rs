//! How errors are told to users: one line, with their causes.

/// An error and its sources as one line ("a: b: c"), skipping sources
/// whose text the message already contains.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(err) = source {
        let text = err.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = err.source();
    }
    message
}
