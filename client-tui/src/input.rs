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
    /// Sort by the next column.
    SortNext,
    /// Reverse the sort.
    SortReverse,
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
}

/// The action of a key in a mode, if any.
pub fn action(mode: Mode, key: KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, KeyCode::Char('c')) {
        return Some(Action::Quit);
    }
    match mode {
        Mode::Filter | Mode::Command | Mode::TextSearch => match key.code {
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Enter => Some(Action::Enter),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Tab if mode == Mode::Command => Some(Action::Complete),
            KeyCode::Up => Some(Action::Move(-1)),
            KeyCode::Down => Some(Action::Move(1)),
            KeyCode::Char(c) if !ctrl => Some(Action::Type(c)),
            _ => None,
        },
        Mode::Table | Mode::Text | Mode::Help => {
            if ctrl {
                return match key.code {
                    KeyCode::Char('w') if mode == Mode::Table => Some(Action::ToggleWide),
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
            match (mode, key.code) {
                (Mode::Table, KeyCode::Char('/')) => Some(Action::StartFilter),
                (Mode::Table, KeyCode::Char(':')) => Some(Action::StartCommand),
                (Mode::Table, KeyCode::Enter) => Some(Action::Enter),
                (Mode::Table, KeyCode::Char('d')) => Some(Action::Describe),
                (Mode::Table, KeyCode::Char('J')) => Some(Action::JumpOwner),
                (Mode::Table, KeyCode::Char('C')) => Some(Action::SortUsage(false)),
                (Mode::Table, KeyCode::Char('M')) => Some(Action::SortUsage(true)),
                (Mode::Table, KeyCode::Char('y')) => Some(Action::Yaml),
                (Mode::Table, KeyCode::Char('s')) => Some(Action::SortNext),
                (Mode::Table, KeyCode::Char('S')) => Some(Action::SortReverse),
                (Mode::Table, KeyCode::Char('N')) => Some(Action::SortName),
                (Mode::Table, KeyCode::Char('A')) => Some(Action::SortAge),
                (Mode::Table, KeyCode::Char('0')) => Some(Action::AllNamespaces),
                (Mode::Text, KeyCode::Char('/')) => Some(Action::StartFilter),
                (Mode::Text, KeyCode::Char('n')) => Some(Action::NextMatch),
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
            (ch('s'), Action::SortNext),
            (ch('S'), Action::SortReverse),
            (ch('N'), Action::SortName),
            (ch('A'), Action::SortAge),
            (ch('0'), Action::AllNamespaces),
        ];
        for (key, want) in cases {
            assert_eq!(action(Mode::Table, key), Some(want), "{key:?}");
        }
        assert_eq!(action(Mode::Table, ch('x')), None);
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
            action(Mode::Text, ch('d')),
            None,
            "no describe inside a text view"
        );
        let ctrl_d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert_eq!(action(Mode::Text, ctrl_d), Some(Action::Page(1)));
    }
}
