//! Keys → actions, per mode. Pure and unit-tested: the event loop only
//! routes what this module decides.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What the user is doing, which decides what a key means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Browsing the table.
    Table,
    /// Typing a filter after `/`.
    Filter,
    /// Typing a command after `:`.
    Command,
    /// Reading a describe or YAML view.
    Text,
    /// Typing a search in a describe or YAML view.
    TextSearch,
    /// Reading the help.
    Help,
    /// Reading logs.
    Logs,
    /// Typing a search in the log view.
    LogSearch,
    /// Answering yes or no to a question (delete this pod?).
    Confirm,
    /// Typing a number (replicas to scale to).
    Prompt,
}

/// What a key asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Leave the program.
    Quit,
    /// Move the selection (or scroll) by this many lines.
    Move(i64),
    /// Move by this many pages.
    Page(i64),
    /// To the first line.
    Top,
    /// To the last line.
    Bottom,
    /// Start typing a filter (`/`).
    StartFilter,
    /// Start typing a command (`:`).
    StartCommand,
    /// Type a character into the line being edited.
    Type(char),
    /// Delete the character before the cursor.
    Backspace,
    /// Complete the command being typed.
    Complete,
    /// Accept the line being edited, or open the selected row.
    Enter,
    /// Clear the line or leave the current view.
    Back,
    /// Describe the selected object.
    Describe,
    /// Show the selected object's YAML.
    Yaml,
    /// Show the keys.
    Help,
    /// Sort by name.
    SortName,
    /// Sort by age (newest first).
    SortAge,
    /// In a text view: the next search match.
    NextMatch,
    /// In the namespace list: all namespaces.
    AllNamespaces,
    /// Show or hide every `-o wide` column.
    ToggleWide,
    /// Go to the selected object's owner.
    JumpOwner,
    /// Sort by CPU (false) or memory (true) use, highest first.
    SortUsage(bool),
    /// Sort by STATUS (`S`).
    SortStatus,
    /// Sort by RESTARTS, or READY where a kind has no restarts (`R`).
    SortReady,
    /// Logs of the selected pod or workload (`l`), or of a pod's
    /// previous container instance (`p`).
    Logs { previous: bool },
    /// Delete the selected object (asks first).
    Delete,
    /// Kill the selected pod: delete with grace period 0 (asks first).
    Kill,
    /// Scale the selected workload (asks for the replicas).
    Scale,
    /// Restart the selected workload's rollout (asks first).
    Restart,
    /// Cordon (true) or uncordon (false) the selected node.
    Cordon(bool),
    /// Run the selected cronjob now.
    Trigger,
    /// Edit the selected object in $EDITOR.
    Edit,
    /// Forward a port of the selected pod (`shift-f`).
    Forward,
    /// A key of the log view.
    Log(crate::logview::LogKey),
}

/// The action of a key in a mode, if any.
pub fn action(mode: Mode, key: KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, KeyCode::Char('c')) {
        return Some(Action::Quit);
    }
    match mode {
        Mode::Confirm => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => Some(Action::Enter),
            _ => Some(Action::Back),
        },
        Mode::Prompt => match key.code {
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Enter => Some(Action::Enter),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Char(c) if !ctrl => Some(Action::Type(c)),
            _ => None,
        },
        Mode::Filter | Mode::Command | Mode::TextSearch | Mode::LogSearch => match key.code {
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Enter => Some(Action::Enter),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Tab if mode == Mode::Command => Some(Action::Complete),
            KeyCode::Up => Some(Action::Move(-1)),
            KeyCode::Down => Some(Action::Move(1)),
            KeyCode::Char(c) if !ctrl => Some(Action::Type(c)),
            _ => None,
        },
        Mode::Table | Mode::Text | Mode::Help | Mode::Logs => {
            if ctrl {
                return match key.code {
                    KeyCode::Char('w') if mode == Mode::Table => Some(Action::ToggleWide),
                    // k9s: ctrl-d deletes, ctrl-k kills; ctrl-f / ctrl-b page.
                    // In a text view it pages, but stops a forward in `:pf`.
                    KeyCode::Char('d') if matches!(mode, Mode::Table | Mode::Text) => {
                        Some(Action::Delete)
                    }
                    KeyCode::Char('k') if mode == Mode::Table => Some(Action::Kill),
                    KeyCode::Char('d') | KeyCode::Char('f') => Some(Action::Page(1)),
                    KeyCode::Char('u') | KeyCode::Char('b') => Some(Action::Page(-1)),
                    _ => None,
                };
            }
            let common = match key.code {
                KeyCode::Char('q') => Some(Action::Quit),
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Char('j') | KeyCode::Down => Some(Action::Move(1)),
                KeyCode::Char('k') | KeyCode::Up => Some(Action::Move(-1)),
                KeyCode::PageDown => Some(Action::Page(1)),
                KeyCode::PageUp => Some(Action::Page(-1)),
                KeyCode::Char('g') | KeyCode::Home => Some(Action::Top),
                KeyCode::Char('G') | KeyCode::End => Some(Action::Bottom),
                KeyCode::Char('?') => Some(Action::Help),
                _ => None,
            };
            if common.is_some() {
                return common;
            }
            use crate::logview::LogKey;
            match (mode, key.code) {
                (Mode::Table, KeyCode::Char('/')) => Some(Action::StartFilter),
                (Mode::Table, KeyCode::Char(':')) => Some(Action::StartCommand),
                (Mode::Table, KeyCode::Enter) => Some(Action::Enter),
                (Mode::Table, KeyCode::Char('d')) => Some(Action::Describe),
                (Mode::Table, KeyCode::Char('J')) => Some(Action::JumpOwner),
                (Mode::Table, KeyCode::Char('C')) => Some(Action::SortUsage(false)),
                (Mode::Table, KeyCode::Char('M')) => Some(Action::SortUsage(true)),
                (Mode::Table, KeyCode::Char('y')) => Some(Action::Yaml),
                (Mode::Table, KeyCode::Char('S')) => Some(Action::SortStatus),
                (Mode::Table, KeyCode::Char('R')) => Some(Action::SortReady),
                (Mode::Table, KeyCode::Char('N')) => Some(Action::SortName),
                (Mode::Table, KeyCode::Char('A')) => Some(Action::SortAge),
                (Mode::Table, KeyCode::Char('0')) => Some(Action::AllNamespaces),
                (Mode::Table, KeyCode::Char('l')) => Some(Action::Logs { previous: false }),
                (Mode::Table, KeyCode::Char('p')) => Some(Action::Logs { previous: true }),
                (Mode::Table, KeyCode::Char('s')) => Some(Action::Scale),
                (Mode::Table, KeyCode::Char('r')) => Some(Action::Restart),
                (Mode::Table, KeyCode::Char('c')) => Some(Action::Cordon(true)),
                (Mode::Table, KeyCode::Char('u')) => Some(Action::Cordon(false)),
                (Mode::Table, KeyCode::Char('t')) => Some(Action::Trigger),
                (Mode::Table, KeyCode::Char('e')) => Some(Action::Edit),
                (Mode::Table | Mode::Text, KeyCode::Char('F')) => Some(Action::Forward),
                // The containers view: that container's logs, shell.
                (Mode::Text, KeyCode::Char('s')) => Some(Action::Scale),
                (Mode::Text, KeyCode::Char('l')) => Some(Action::Logs { previous: false }),
                (Mode::Text, KeyCode::Char('p')) => Some(Action::Logs { previous: true }),
                (Mode::Text | Mode::Logs, KeyCode::Char('/')) => Some(Action::StartFilter),
                (Mode::Text | Mode::Logs, KeyCode::Char('n')) => Some(Action::NextMatch),
                (Mode::Logs, KeyCode::Char('N')) => Some(Action::Log(LogKey::PreviousMatch)),
                (Mode::Logs, KeyCode::Char('s') | KeyCode::Char('f')) => {
                    Some(Action::Log(LogKey::Follow))
                }
                (Mode::Logs, KeyCode::Char('w')) => Some(Action::Log(LogKey::Wrap)),
                (Mode::Logs, KeyCode::Char('t')) => Some(Action::Log(LogKey::Timestamps)),
                (Mode::Logs, KeyCode::Char('p')) => Some(Action::Log(LogKey::Previous)),
                (Mode::Logs, KeyCode::Char('a')) => Some(Action::Log(LogKey::AllContainers)),
                (Mode::Logs, KeyCode::Char('c')) => Some(Action::Log(LogKey::NextContainer)),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ch(c: char) -> KeyEvent {
        key(KeyCode::Char(c))
    }

    #[test]
    fn table_keys_follow_k9s() {
        let cases = [
            (ch('j'), Action::Move(1)),
            (key(KeyCode::Down), Action::Move(1)),
            (ch('k'), Action::Move(-1)),
            (key(KeyCode::Up), Action::Move(-1)),
            (key(KeyCode::PageDown), Action::Page(1)),
            (key(KeyCode::PageUp), Action::Page(-1)),
            (ch('g'), Action::Top),
            (ch('G'), Action::Bottom),
            (ch('/'), Action::StartFilter),
            (ch(':'), Action::StartCommand),
            (ch('d'), Action::Describe),
            (ch('y'), Action::Yaml),
            (ch('?'), Action::Help),
            (ch('q'), Action::Quit),
            (key(KeyCode::Esc), Action::Back),
            (key(KeyCode::Enter), Action::Enter),
            (ch('S'), Action::SortStatus),
            (ch('R'), Action::SortReady),
            (ch('N'), Action::SortName),
            (ch('l'), Action::Logs { previous: false }),
            (ch('p'), Action::Logs { previous: true }),
            (ch('s'), Action::Scale),
            (ch('r'), Action::Restart),
            (ch('c'), Action::Cordon(true)),
            (ch('u'), Action::Cordon(false)),
            (ch('t'), Action::Trigger),
            (ch('e'), Action::Edit),
            (
                KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL),
                Action::Delete,
            ),
            (
                KeyEvent::new(KeyCode::Char('k'), KeyModifiers::CONTROL),
                Action::Kill,
            ),
            (ch('A'), Action::SortAge),
            (ch('0'), Action::AllNamespaces),
        ];
        for (key, want) in cases {
            assert_eq!(action(Mode::Table, key), Some(want), "{key:?}");
        }
        assert_eq!(action(Mode::Table, ch('x')), None);
    }

    #[test]
    fn the_log_view_has_k9s_keys_and_questions_take_y() {
        use crate::logview::LogKey;
        assert_eq!(
            action(Mode::Logs, ch('s')),
            Some(Action::Log(LogKey::Follow))
        );
        assert_eq!(action(Mode::Logs, ch('w')), Some(Action::Log(LogKey::Wrap)));
        assert_eq!(
            action(Mode::Logs, ch('t')),
            Some(Action::Log(LogKey::Timestamps))
        );
        assert_eq!(action(Mode::Logs, ch('n')), Some(Action::NextMatch));
        assert_eq!(
            action(Mode::Logs, ch('N')),
            Some(Action::Log(LogKey::PreviousMatch))
        );
        assert_eq!(action(Mode::Logs, ch('/')), Some(Action::StartFilter));
        let ctrl_d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert_eq!(action(Mode::Logs, ctrl_d), Some(Action::Page(1)));
        assert_eq!(action(Mode::Confirm, ch('y')), Some(Action::Enter));
        assert_eq!(action(Mode::Confirm, ch('n')), Some(Action::Back));
        assert_eq!(action(Mode::Confirm, ch('q')), Some(Action::Back));
        assert_eq!(action(Mode::Prompt, ch('3')), Some(Action::Type('3')));
        // Prompts take any character; the app keeps what fits (digits for
        // replicas, a port pair for a forward).
        assert_eq!(action(Mode::Prompt, ch(':')), Some(Action::Type(':')));
    }

    #[test]
    fn ctrl_c_quits_everywhere() {
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        for mode in [
            Mode::Table,
            Mode::Filter,
            Mode::Command,
            Mode::Text,
            Mode::TextSearch,
            Mode::Help,
            Mode::Logs,
            Mode::LogSearch,
            Mode::Confirm,
            Mode::Prompt,
        ] {
            assert_eq!(action(mode, ctrl_c), Some(Action::Quit), "{mode:?}");
        }
    }

    #[test]
    fn editing_modes_type_letters_that_are_commands_elsewhere() {
        for mode in [Mode::Filter, Mode::Command, Mode::TextSearch] {
            assert_eq!(action(mode, ch('q')), Some(Action::Type('q')));
            assert_eq!(action(mode, ch('j')), Some(Action::Type('j')));
            assert_eq!(action(mode, ch('/')), Some(Action::Type('/')));
            assert_eq!(action(mode, key(KeyCode::Esc)), Some(Action::Back));
            assert_eq!(action(mode, key(KeyCode::Enter)), Some(Action::Enter));
            assert_eq!(
                action(mode, key(KeyCode::Backspace)),
                Some(Action::Backspace)
            );
        }
        assert_eq!(
            action(Mode::Command, key(KeyCode::Tab)),
            Some(Action::Complete)
        );
        assert_eq!(action(Mode::Filter, key(KeyCode::Tab)), None);
    }

    #[test]
    fn text_views_scroll_and_search() {
        assert_eq!(action(Mode::Text, ch('j')), Some(Action::Move(1)));
        assert_eq!(action(Mode::Text, ch('/')), Some(Action::StartFilter));
        assert_eq!(action(Mode::Text, ch('n')), Some(Action::NextMatch));
        assert_eq!(
            action(Mode::Text, ch('l')),
            Some(Action::Logs { previous: false }),
            "the containers view reads its pod's logs"
        );
        assert_eq!(
            action(Mode::Text, ch('d')),
            None,
            "no describe inside a text view"
        );
        // ctrl-d: the app pages a text view, and stops a forward in `:pf`.
        let ctrl_d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert_eq!(action(Mode::Text, ctrl_d), Some(Action::Delete));
        assert_eq!(action(Mode::Text, ch('s')), Some(Action::Scale));
        assert_eq!(action(Mode::Text, ch('F')), Some(Action::Forward));
    }
}
