//! What runs in a simulated container when someone execs into it: a small
//! POSIX-ish shell (`sh`, and `bash` where the image has it) with the few
//! programs people reach for first (`echo`, `cat`, `env`, `hostname`, `ls`,
//! `stty size`, `sleep`, `exit N`, ...), and a terminal line discipline when
//! a TTY is asked for: typed characters are echoed, backspace and ctrl-u
//! edit the line, ctrl-c drops it, ctrl-d on an empty line ends input, and
//! output newlines become CR LF.
//!
//! Images decide what exists, as real ones do: busybox-based images have
//! `sh` but no `bash`, distroless ones (fluent-bit) have no shell at all,
//! the rest have both. Exec of a program the image lacks fails the way
//! containerd fails it (see `exec.rs`).

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::mpsc;

/// The container an exec runs in.
#[derive(Debug, Clone)]
pub struct Container {
    pub pod: String,
    pub name: String,
    pub image: String,
    /// The container's `env` with plain values (valueFrom is left out).
    pub env: Vec<(String, String)>,
}

impl Container {
    fn busybox(&self) -> bool {
        ["busybox", "prometheus", "alpine"]
            .iter()
            .any(|b| self.image.contains(b))
    }

    fn distroless(&self) -> bool {
        ["fluent-bit", "distroless"]
            .iter()
            .any(|d| self.image.contains(d))
    }

    /// Whether `program` exists in the image (by name or path).
    pub fn has(&self, program: &str) -> bool {
        if self.distroless() {
            return false;
        }
        let name = program.rsplit('/').next().unwrap_or(program);
        match name {
            "bash" => !self.busybox(),
            _ => PROGRAMS.contains(&name),
        }
    }

    fn variables(&self, tty: bool) -> Vec<(String, String)> {
        let mut vars = vec![
            (
                "PATH".to_string(),
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
            ),
            ("HOSTNAME".to_string(), self.pod.clone()),
            ("HOME".to_string(), "/root".to_string()),
        ];
        if tty {
            vars.push(("TERM".to_string(), "xterm".to_string()));
        }
        vars.extend(self.env.iter().cloned());
        vars
    }
}

/// Programs every image with a shell has.
const PROGRAMS: [&str; 21] = [
    "sh", "echo", "cat", "env", "printenv", "hostname", "pwd", "true", "false", "sleep", "stty",
    "whoami", "id", "uname", "ls", "exit", "exec", "command", ":", "test", "printf",
];

/// What reaches the container from the client.
#[derive(Debug)]
pub enum Input {
    Stdin(Vec<u8>),
    /// The client's stdin ended (v5 CLOSE), or the client went away.
    Closed,
    Resize {
        width: u16,
        height: u16,
    },
}

/// What the container writes.
#[derive(Debug, PartialEq, Eq)]
pub enum Output {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
}

/// One line of terminal input.
#[derive(Debug, PartialEq, Eq)]
enum Read {
    Line(String),
    /// End of input: ctrl-d on an empty line (a terminal) or stdin closed.
    End,
    /// ctrl-c: the line is dropped.
    Interrupt,
}

/// The container's standard streams.
#[derive(Debug)]
pub struct Io {
    inputs: mpsc::Receiver<Input>,
    outputs: mpsc::Sender<Output>,
    tty: bool,
    stderr: bool,
    size: Option<(u16, u16)>,
    pending: VecDeque<u8>,
    closed: bool,
}

impl Io {
    pub fn new(
        inputs: mpsc::Receiver<Input>,
        outputs: mpsc::Sender<Output>,
        tty: bool,
        stderr: bool,
    ) -> Io {
        Io {
            inputs,
            outputs,
            tty,
            stderr,
            size: None,
            pending: VecDeque::new(),
            closed: false,
        }
    }

    /// Take one input; false once input has ended.
    async fn pull(&mut self) -> bool {
        if self.closed {
            return false;
        }
        match self.inputs.recv().await {
            Some(Input::Stdin(bytes)) => {
                self.pending.extend(bytes);
                true
            }
            Some(Input::Resize { width, height }) => {
                self.size = Some((width, height));
                true
            }
            Some(Input::Closed) | None => {
                self.closed = true;
                false
            }
        }
    }

    /// Take the inputs already there without waiting (resizes, mostly).
    fn pull_ready(&mut self) {
        while let Ok(input) = self.inputs.try_recv() {
            match input {
                Input::Stdin(bytes) => self.pending.extend(bytes),
                Input::Resize { width, height } => self.size = Some((width, height)),
                Input::Closed => self.closed = true,
            }
        }
    }

    async fn write(&mut self, output: Output) {
        let _ = self.outputs.send(output).await;
    }

    /// Write to stdout; a terminal turns `\n` into `\r\n`.
    async fn out(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let bytes = if self.tty {
            text.replace('\n', "\r\n").into_bytes()
        } else {
            text.as_bytes().to_vec()
        };
        self.write(Output::Stdout(bytes)).await;
    }

    /// Write to stderr; with a terminal that is the same stream as stdout.
    async fn err(&mut self, text: &str) {
        if self.tty {
            self.out(text).await;
        } else if self.stderr {
            self.write(Output::Stderr(text.as_bytes().to_vec())).await;
        }
    }

    /// One line, through the line discipline on a terminal.
    async fn read_line(&mut self) -> Read {
        let mut line = String::new();
        loop {
            while let Some(byte) = self.pending.pop_front() {
                if !self.tty {
                    if byte == b'\n' {
                        return Read::Line(line);
                    }
                    line.push(byte as char);
                    continue;
                }
                match byte {
                    b'\r' | b'\n' => {
                        self.out("\n").await;
                        return Read::Line(line);
                    }
                    0x03 => {
                        self.out("^C\n").await;
                        return Read::Interrupt;
                    }
                    0x04 if line.is_empty() => return Read::End,
                    0x04 => {}
                    0x7f | 0x08 if line.pop().is_some() => self.out("\x08 \x08").await,
                    0x7f | 0x08 => {}
                    0x15 => {
                        let erase = "\x08 \x08".repeat(line.chars().count());
                        line.clear();
                        self.out(&erase).await;
                    }
                    0x1b => self.skip_escape().await,
                    byte if byte >= 0x20 => {
                        let ch = byte as char;
                        line.push(ch);
                        self.out(ch.encode_utf8(&mut [0; 4])).await;
                    }
                    _ => {}
                }
            }
            if !self.pull().await {
                return if line.is_empty() {
                    Read::End
                } else {
                    Read::Line(line)
                };
            }
        }
    }

    /// Drop an escape sequence (arrow keys and the like): the line editor
    /// here has no history or cursor movement.
    async fn skip_escape(&mut self) {
        let mut seen = 0;
        loop {
            while let Some(byte) = self.pending.pop_front() {
                seen += 1;
                if seen == 1 && byte != b'[' && byte != b'O' {
                    return;
                }
                if seen > 1 && (0x40..=0x7e).contains(&byte) {
                    return;
                }
            }
            if !self.pull().await {
                return;
            }
        }
    }
}

/// How a command list ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Next(i32),
    Exit(i32),
}

/// Where a command's output goes.
#[derive(Debug, Clone, Copy, Default)]
struct Redirect {
    mute_out: bool,
    mute_err: bool,
    err_to_out: bool,
}

/// Run `argv` in `container`: the exit code, or the program the image lacks.
pub async fn run(argv: &[String], container: &Container, io: &mut Io) -> Result<i32, String> {
    let program = argv.first().map(String::as_str).unwrap_or("");
    if !container.has(program) || program == "exit" || program == "exec" {
        return Err(program.to_string());
    }
    let shell = Shell {
        container,
        name: shell_name(container, program),
        vars: container.variables(io.tty),
        last: 0,
    };
    Ok(shell.top(argv, io).await)
}

fn shell_name(container: &Container, program: &str) -> &'static str {
    if program.rsplit('/').next() == Some("bash") && container.has("bash") {
        "bash"
    } else {
        "sh"
    }
}

struct Shell<'a> {
    container: &'a Container,
    /// `sh` or `bash`: error messages and prompts differ.
    name: &'static str,
    vars: Vec<(String, String)>,
    last: i32,
}

impl Shell<'_> {
    /// The exec'd program itself.
    async fn top(mut self, argv: &[String], io: &mut Io) -> i32 {
        match self.simple(argv, Redirect::default(), io).await {
            Flow::Next(code) | Flow::Exit(code) => code,
        }
    }

    /// `sh -c SCRIPT`, or an interactive shell.
    async fn shell(&mut self, program: &str, args: &[String], io: &mut Io) -> i32 {
        let mut nested = Shell {
            container: self.container,
            name: shell_name(self.container, program),
            vars: self.vars.clone(),
            last: 0,
        };
        match args {
            [flag, script, ..] if flag == "-c" => match nested.script(script, io).await {
                Flow::Next(code) | Flow::Exit(code) => code,
            },
            [flag] if flag == "-c" => {
                nested
                    .complain(
                        io,
                        &format!("{}: -c: option requires an argument\n", nested.name),
                    )
                    .await;
                2
            }
            _ => Box::pin(nested.interactive(io)).await,
        }
    }

    fn prompt(&self) -> String {
        match (self.name, self.container.busybox()) {
            ("bash", _) => format!("root@{}:/# ", self.container.pod),
            (_, true) => "/ # ".to_string(),
            _ => "# ".to_string(),
        }
    }

    async fn interactive(&mut self, io: &mut Io) -> i32 {
        loop {
            if io.tty {
                let prompt = self.prompt();
                io.out(&prompt).await;
            }
            match io.read_line().await {
                Read::Line(line) => {
                    if let Flow::Exit(code) = self.script(&line, io).await {
                        if io.tty && self.name == "bash" {
                            io.out("exit\n").await;
                        }
                        return code;
                    }
                }
                Read::Interrupt => self.last = 130,
                Read::End => {
                    if io.tty && self.name == "bash" {
                        io.out("exit\n").await;
                    }
                    return self.last;
                }
            }
        }
    }

    async fn complain(&mut self, io: &mut Io, text: &str) {
        io.err(text).await;
    }

    /// A command line: lists joined by `;`, `&&` and `||`.
    async fn script(&mut self, text: &str, io: &mut Io) -> Flow {
        let words = match split(text) {
            Ok(words) => words,
            Err(problem) => {
                let message = match self.name {
                    "bash" => format!("bash: -c: line 1: {problem}\n"),
                    _ => format!("sh: 1: Syntax error: {problem}\n"),
                };
                self.complain(io, &message).await;
                self.last = 2;
                return Flow::Next(2);
            }
        };
        let mut command: Vec<Word> = Vec::new();
        let mut skip = false;
        for word in words.into_iter().chain([Word::Op(";")]) {
            let Word::Op(op) = word else {
                command.push(word);
                continue;
            };
            if !skip && !command.is_empty() {
                let flow = self.command(&command, io).await;
                if let Flow::Exit(code) = flow {
                    return Flow::Exit(code);
                }
            }
            command.clear();
            skip = match op {
                "&&" => self.last != 0,
                "||" => self.last == 0,
                _ => false,
            };
        }
        Flow::Next(self.last)
    }

    /// One simple command: expand its words, apply its redirections.
    async fn command(&mut self, words: &[Word], io: &mut Io) -> Flow {
        let mut argv = Vec::new();
        let mut redirect = Redirect::default();
        for word in words {
            match word {
                Word::Op(_) => {}
                Word::Redirect(fd, target) => match (fd, target.as_str()) {
                    (2, "&1") => redirect.err_to_out = true,
                    (1, "/dev/null") => redirect.mute_out = true,
                    (2, "/dev/null") => redirect.mute_err = true,
                    (_, target) => {
                        let message = match self.name {
                            "bash" => format!("bash: {target}: Read-only file system\n"),
                            _ => format!("sh: 1: cannot create {target}: Read-only file system\n"),
                        };
                        self.complain(io, &message).await;
                        self.last = if self.name == "bash" { 1 } else { 2 };
                        return Flow::Next(self.last);
                    }
                },
                Word::Text(parts) => argv.push(self.expand(parts)),
            }
        }
        let flow = Box::pin(self.simple(&argv, redirect, io)).await;
        if let Flow::Next(code) = flow {
            self.last = code;
        }
        flow
    }

    fn expand(&self, parts: &[(String, bool)]) -> String {
        let mut text = String::new();
        for (part, literal) in parts {
            if *literal {
                text.push_str(part);
                continue;
            }
            let mut rest = part.as_str();
            while let Some(at) = rest.find('$') {
                text.push_str(&rest[..at]);
                let after = &rest[at + 1..];
                if let Some(tail) = after.strip_prefix('?') {
                    text.push_str(&self.last.to_string());
                    rest = tail;
                    continue;
                }
                let (name, tail) = match after.strip_prefix('{') {
                    Some(braced) => match braced.split_once('}') {
                        Some((name, tail)) => (name, tail),
                        None => (braced, ""),
                    },
                    None => {
                        let end = after
                            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                            .unwrap_or(after.len());
                        after.split_at(end)
                    }
                };
                if name.is_empty() {
                    text.push('$');
                } else if let Some((_, value)) = self.vars.iter().rev().find(|(k, _)| k == name) {
                    text.push_str(value);
                }
                rest = tail;
            }
            text.push_str(rest);
        }
        text
    }

    async fn simple(&mut self, argv: &[String], redirect: Redirect, io: &mut Io) -> Flow {
        let Some(program) = argv.first() else {
            return Flow::Next(0);
        };
        let args = &argv[1..];
        let name = program.rsplit('/').next().unwrap_or(program);
        if !self.container.has(program) {
            let message = match self.name {
                "bash" => format!("bash: {program}: command not found\n"),
                _ => format!("sh: 1: {program}: not found\n"),
            };
            if !redirect.mute_err {
                io.err(&message).await;
            }
            return Flow::Next(127);
        }
        let mut out = String::new();
        let mut err = String::new();
        let code = match name {
            "exit" => {
                let code = args.first().map_or(Some(self.last), |a| a.parse().ok());
                return match code {
                    Some(code) => Flow::Exit(code & 0xff),
                    None => {
                        io.err(&format!(
                            "{}: exit: {}: numeric argument required\n",
                            self.name, args[0]
                        ))
                        .await;
                        Flow::Exit(2)
                    }
                };
            }
            "exec" if args.is_empty() => 0,
            "exec" => {
                return match Box::pin(self.simple(args, redirect, io)).await {
                    Flow::Next(code) | Flow::Exit(code) => Flow::Exit(code),
                };
            }
            "sh" | "bash" => self.shell(name, args, io).await,
            "cat" if args.is_empty() => {
                self.cat(io, redirect).await;
                0
            }
            "cat" => {
                let mut code = 0;
                for file in args {
                    match file.as_str() {
                        "/etc/hostname" => out.push_str(&format!("{}\n", self.container.pod)),
                        _ => {
                            err.push_str(&format!("cat: {file}: No such file or directory\n"));
                            code = 1;
                        }
                    }
                }
                code
            }
            "sleep" => {
                let seconds: f64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(0.0);
                tokio::time::sleep(Duration::from_secs_f64(seconds.clamp(0.0, 3600.0))).await;
                0
            }
            _ => self.utility(name, args, io, &mut out, &mut err),
        };
        if redirect.err_to_out {
            out.push_str(&std::mem::take(&mut err));
        }
        if !redirect.mute_out {
            io.out(&out).await;
        }
        if !redirect.mute_err {
            io.err(&err).await;
        }
        Flow::Next(code)
    }

    /// The programs that only print.
    fn utility(
        &mut self,
        name: &str,
        args: &[String],
        io: &mut Io,
        out: &mut String,
        err: &mut String,
    ) -> i32 {
        match name {
            "echo" => {
                let (newline, words) = match args.first().map(String::as_str) {
                    Some("-n") => (false, &args[1..]),
                    _ => (true, args),
                };
                out.push_str(&words.join(" "));
                if newline {
                    out.push('\n');
                }
                0
            }
            "printf" => {
                let format = args.first().map(String::as_str).unwrap_or("");
                out.push_str(
                    &format
                        .replace("\\n", "\n")
                        .replace("%s", &args[1..].join(" ")),
                );
                0
            }
            "env" | "printenv" => self.env(name, args, io, out),
            "hostname" => {
                out.push_str(&format!("{}\n", self.container.pod));
                0
            }
            "pwd" => {
                out.push_str("/\n");
                0
            }
            "whoami" => {
                out.push_str("root\n");
                0
            }
            "id" => {
                out.push_str("uid=0(root) gid=0(root) groups=0(root)\n");
                0
            }
            "uname" => {
                match args.first().map(String::as_str) {
                    Some("-a") => out.push_str(&format!(
                        "Linux {} 6.8.0-timoneiro-sim #1 SMP x86_64 GNU/Linux\n",
                        self.container.pod
                    )),
                    _ => out.push_str("Linux\n"),
                }
                0
            }
            "ls" => {
                out.push_str(if io.tty {
                    "bin  dev  etc  home  proc  root  sys  tmp  usr  var\n"
                } else {
                    "bin\ndev\netc\nhome\nproc\nroot\nsys\ntmp\nusr\nvar\n"
                });
                0
            }
            "stty" => stty(args, io, out, err),
            "command" => self.command_v(args, out),
            "false" => 1,
            "test" => i32::from(args.is_empty()),
            _ => 0,
        }
    }

    /// `env`, or `printenv [NAME]`: the container's variables.
    fn env(&mut self, name: &str, args: &[String], io: &mut Io, out: &mut String) -> i32 {
        io.pull_ready();
        let vars = self.container.variables(io.tty);
        match args.first() {
            Some(wanted) if name == "printenv" => {
                match vars.iter().rev().find(|(k, _)| k == wanted) {
                    Some((_, value)) => out.push_str(&format!("{value}\n")),
                    None => return 1,
                }
            }
            _ => {
                for (key, value) in vars {
                    out.push_str(&format!("{key}={value}\n"));
                }
            }
        }
        0
    }

    /// `command -v PROGRAM`: where it is, if the image has it.
    fn command_v(&self, args: &[String], out: &mut String) -> i32 {
        let [flag, program, ..] = args else {
            return 0;
        };
        if flag != "-v" {
            return 0;
        }
        if !self.container.has(program) {
            return 1;
        }
        let found = program.rsplit('/').next().unwrap_or(program);
        match found {
            "sh" | "bash" | "cat" | "env" | "hostname" | "ls" | "sleep" | "stty" | "id"
            | "uname" | "whoami" => out.push_str(&format!("/bin/{found}\n")),
            _ => out.push_str(&format!("{found}\n")),
        }
        0
    }

    /// `cat` with no file: stdin to stdout until it ends (ctrl-d on a
    /// terminal).
    async fn cat(&mut self, io: &mut Io, redirect: Redirect) {
        if io.tty {
            while let Read::Line(line) = io.read_line().await {
                if !redirect.mute_out {
                    io.out(&format!("{line}\n")).await;
                }
            }
            return;
        }
        loop {
            if !io.pending.is_empty() {
                let bytes: Vec<u8> = io.pending.drain(..).collect();
                if !redirect.mute_out {
                    io.write(Output::Stdout(bytes)).await;
                }
            }
            if !io.pull().await {
                return;
            }
        }
    }
}

/// A word of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Word {
    /// Pieces, each literal (single-quoted) or to expand.
    Text(Vec<(String, bool)>),
    Op(&'static str),
    /// `>FILE`, `2>FILE`, `2>&1`: the fd and the target.
    Redirect(u8, String),
}

/// Split a command line into words and operators, as sh quotes them.
fn split(text: &str) -> Result<Vec<Word>, String> {
    let mut s = Splitter {
        words: Vec::new(),
        parts: Vec::new(),
        current: String::new(),
        started: false,
        chars: text.chars().peekable(),
    };
    while let Some(c) = s.chars.next() {
        match c {
            ' ' | '\t' => s.flush(),
            ';' | '\n' => s.operator(";"),
            '&' if s.chars.peek() == Some(&'&') => {
                s.chars.next();
                s.operator("&&");
            }
            '|' if s.chars.peek() == Some(&'|') => {
                s.chars.next();
                s.operator("||");
            }
            '|' | '&' => return Err(format!("\"{c}\" unexpected")),
            '>' => s.redirect()?,
            '\'' => s.single_quoted()?,
            '"' => s.double_quoted()?,
            '\\' => {
                s.started = true;
                if let Some(c) = s.chars.next() {
                    s.literal(c);
                }
            }
            c => {
                s.started = true;
                s.current.push(c);
            }
        }
    }
    s.flush();
    Ok(s.words)
}

/// The words of a command line so far, and the one being read: its parts
/// (text, and whether it was quoted) and its unquoted tail.
struct Splitter<'a> {
    words: Vec<Word>,
    parts: Vec<(String, bool)>,
    current: String,
    /// A word has begun (an empty quoted string is a word).
    started: bool,
    chars: std::iter::Peekable<std::str::Chars<'a>>,
}

impl Splitter<'_> {
    /// End the word being read, if one began.
    fn flush(&mut self) {
        self.end_unquoted();
        if self.started {
            self.words.push(Word::Text(std::mem::take(&mut self.parts)));
        }
        self.started = false;
    }

    /// The unquoted text read so far becomes a part of the word.
    fn end_unquoted(&mut self) {
        if !self.current.is_empty() {
            self.parts.push((std::mem::take(&mut self.current), false));
        }
    }

    /// A character taken as it is (quoted or escaped).
    fn literal(&mut self, c: char) {
        self.end_unquoted();
        self.parts.push((c.to_string(), true));
    }

    fn operator(&mut self, op: &'static str) {
        self.flush();
        self.words.push(Word::Op(op));
    }

    /// `>`, `1>`, `2>`, and its target (`>/dev/null`, `2>&1`).
    fn redirect(&mut self) -> Result<(), String> {
        let fd = match (self.started, self.current.as_str()) {
            (true, "2") if self.parts.is_empty() => 2,
            (true, "1") if self.parts.is_empty() => 1,
            _ => {
                self.flush();
                1
            }
        };
        self.current.clear();
        self.started = false;
        while self.chars.peek() == Some(&' ') {
            self.chars.next();
        }
        let mut target = String::new();
        while let Some(&c) = self.chars.peek() {
            if c == ' ' || c == ';' || c == '\n' || c == '|' || (c == '&' && !target.is_empty()) {
                break;
            }
            target.push(c);
            self.chars.next();
        }
        if target.is_empty() {
            return Err("redirection unexpected".to_string());
        }
        self.words.push(Word::Redirect(fd, target));
        Ok(())
    }

    /// `'…'`: everything literal up to the next quote.
    fn single_quoted(&mut self) -> Result<(), String> {
        self.started = true;
        self.end_unquoted();
        let mut quoted = String::new();
        loop {
            match self.chars.next() {
                Some('\'') => break,
                Some(c) => quoted.push(c),
                None => return Err("Unterminated quoted string".to_string()),
            }
        }
        self.parts.push((quoted, true));
        Ok(())
    }

    /// `"…"`: `$` expands, `\"`, `\\` and `\$` are literal.
    fn double_quoted(&mut self) -> Result<(), String> {
        self.started = true;
        loop {
            match self.chars.next() {
                Some('"') => return Ok(()),
                Some('\\') => match self.chars.next() {
                    Some(c @ ('"' | '\\' | '$')) => self.literal(c),
                    Some(c) => {
                        self.current.push('\\');
                        self.current.push(c);
                    }
                    None => return Err("Unterminated quoted string".to_string()),
                },
                Some(c) => self.current.push(c),
                None => return Err("Unterminated quoted string".to_string()),
            }
        }
    }
}

/// `stty size` on a terminal: its rows and columns; without one, an error.
fn stty(args: &[String], io: &mut Io, out: &mut String, err: &mut String) -> i32 {
    io.pull_ready();
    match (args.first().map(String::as_str), io.tty, io.size) {
        (Some("size"), true, Some((width, height))) => {
            out.push_str(&format!("{height} {width}\n"));
            0
        }
        (Some("size"), true, None) => {
            out.push_str("0 0\n");
            0
        }
        (_, true, _) => 0,
        (_, false, _) => {
            err.push_str("stty: 'standard input': Inappropriate ioctl for device\n");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(image: &str) -> Container {
        Container {
            pod: "web-1".into(),
            name: "web".into(),
            image: image.into(),
            env: vec![("GREETING".into(), "hello there".into())],
        }
    }

    /// Run `argv` with `input` on stdin; everything written, and the code.
    async fn exec(
        image: &str,
        argv: &[&str],
        tty: bool,
        input: &[u8],
    ) -> (String, String, Result<i32, String>) {
        let (in_tx, in_rx) = mpsc::channel(16);
        let (out_tx, mut out_rx) = mpsc::channel(1024);
        let mut io = Io::new(in_rx, out_tx, tty, !tty);
        if !input.is_empty() {
            in_tx.send(Input::Stdin(input.to_vec())).await.unwrap();
        }
        in_tx.send(Input::Closed).await.unwrap();
        let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
        let code = run(&argv, &container(image), &mut io).await;
        drop(io);
        let (mut out, mut err) = (String::new(), String::new());
        while let Some(output) = out_rx.recv().await {
            match output {
                Output::Stdout(b) => out.push_str(&String::from_utf8_lossy(&b)),
                Output::Stderr(b) => err.push_str(&String::from_utf8_lossy(&b)),
            }
        }
        (out, err, code)
    }

    #[tokio::test]
    async fn exit_codes_and_lists() {
        assert_eq!(
            exec("nginx", &["sh", "-c", "exit 3"], false, b"").await.2,
            Ok(3)
        );
        let (out, _, code) = exec(
            "nginx",
            &["sh", "-c", "false || echo a && echo b; false"],
            false,
            b"",
        )
        .await;
        assert_eq!((out.as_str(), code), ("a\nb\n", Ok(1)));
        let (out, _, _) = exec(
            "nginx",
            &["sh", "-c", "false; echo $?; echo \"$GREETING\" '$HOME'"],
            false,
            b"",
        )
        .await;
        assert_eq!(out, "1\nhello there $HOME\n");
    }

    #[tokio::test]
    async fn what_the_image_lacks() {
        // k9s's shell line: bash where there is one, else sh.
        let k9s = [
            "sh",
            "-c",
            "command -v bash >/dev/null && exec bash || exec sh",
        ];
        let (out, _, code) = exec("busybox:1.36", &k9s, true, b"echo hi\r").await;
        assert_eq!(out, "/ # echo hi\r\nhi\r\n/ # ");
        assert_eq!(code, Ok(0));
        let (out, _, _) = exec("nginx:1.27.3", &k9s, true, b"exit 4\r").await;
        assert!(out.starts_with("root@web-1:/# exit 4\r\n"), "{out:?}");
        assert_eq!(
            exec("busybox:1.36", &["bash"], true, b"").await.2,
            Err("bash".into())
        );
        assert_eq!(
            exec(
                "cr.fluentbit.io/fluent/fluent-bit:3.2.2",
                &["sh"],
                true,
                b""
            )
            .await
            .2,
            Err("sh".into())
        );
        let (_, err, code) = exec("nginx", &["sh", "-c", "nope"], false, b"").await;
        assert_eq!((err.as_str(), code), ("sh: 1: nope: not found\n", Ok(127)));
    }

    #[tokio::test]
    async fn terminal_line_discipline() {
        // Typed characters echo; backspace erases; ctrl-c drops the line;
        // output newlines are CR LF; ctrl-d on an empty line ends bash.
        let (out, _, code) = exec("nginx", &["bash"], true, b"ecx\x7fho hi\rabc\x03\x04").await;
        assert_eq!(
            out,
            "root@web-1:/# ecx\x08 \x08ho hi\r\nhi\r\nroot@web-1:/# abc^C\r\nroot@web-1:/# exit\r\n"
        );
        assert_eq!(code, Ok(130));
    }

    #[tokio::test]
    async fn stdin_without_a_terminal() {
        let (out, _, code) = exec("nginx", &["cat"], false, b"one\ntwo").await;
        assert_eq!((out.as_str(), code), ("one\ntwo", Ok(0)));
        let (out, _, _) = exec("nginx", &["sh"], false, b"echo a\nhostname\n").await;
        assert_eq!(out, "a\nweb-1\n");
        let (_, err, code) = exec("nginx", &["stty", "size"], false, b"").await;
        assert_eq!(
            (err.as_str(), code),
            (
                "stty: 'standard input': Inappropriate ioctl for device\n",
                Ok(1)
            )
        );
    }

    #[test]
    fn words_and_redirections() {
        let words = split("a 'b c'\"d\" 2>&1 >/dev/null;x").unwrap();
        assert_eq!(
            words,
            [
                Word::Text(vec![("a".into(), false)]),
                Word::Text(vec![("b c".into(), true), ("d".into(), false)]),
                Word::Redirect(2, "&1".into()),
                Word::Redirect(1, "/dev/null".into()),
                Word::Op(";"),
                Word::Text(vec![("x".into(), false)]),
            ]
        );
        assert!(split("echo 'open").is_err());
    }
}
