//! Standard output and error for every command: `outln!` and friends instead of
//! `println!`, which panics (exit 101) when the reader of a pipe has gone (`starmark log | head -1`).
//!
//! A write to standard output that fails because the pipe was closed ends the process at once,
//! quietly, with the exit code the command has set with [`set_exit_code_if_closed`] (0 unless
//! set): the reader stopped reading, which is not an error of ours, and whatever the command would
//! still print has nobody to read it. This is what ripgrep does. Resetting SIGPIPE to its default
//! action instead would need `unsafe` (forbidden in the workspace) or a crate doing it for us, is
//! Unix-only, and kills the process before it can set a meaningful exit code. Any other write
//! error (a full disk behind `> file`) is reported and ends the process with exit code 2.
//! Writes to standard error never fail the process: when it is closed, there is nobody to tell.
//!
//! clippy.toml disallows `print!`, `println!`, `eprint!` and `eprintln!` in the crate, so new code
//! cannot bring the panic back.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU8, Ordering};

static EXIT_CODE_IF_CLOSED: AtomicU8 = AtomicU8::new(crate::EXIT_OK);

/// Sets the exit code used when standard output turns out to be a closed pipe (`verify` sets its
/// verdict's code before it prints).
pub fn set_exit_code_if_closed(code: u8) {
    EXIT_CODE_IF_CLOSED.store(code, Ordering::SeqCst);
}

/// Whether an error, or any error in its chain, is a closed pipe.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Ends the process quietly with the exit code set for a closed pipe.
pub fn exit_closed() -> ! {
    std::process::exit(i32::from(EXIT_CODE_IF_CLOSED.load(Ordering::SeqCst)))
}

/// Writes to standard output (see the module doc for what happens when that fails).
pub fn stdout(args: std::fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    let written = out.write_fmt(args).and_then(|()| out.flush());
    if let Err(e) = written {
        drop(out);
        if e.kind() == io::ErrorKind::BrokenPipe {
            exit_closed();
        }
        stderr(format_args!(
            "starmark: error: cannot write to standard output: {e}\n"
        ));
        std::process::exit(i32::from(crate::EXIT_ERROR));
    }
}

/// Writes to standard error; a failure is ignored (nobody would read about it).
pub fn stderr(args: std::fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(args);
}

/// `println!` to standard output that never panics: see [`crate::output`].
macro_rules! outln {
    () => {
        $crate::output::stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` to standard output that never panics: see [`crate::output`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::stdout(format_args!($($arg)*))
    };
}

/// `eprintln!` that never panics: see [`crate::output`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}
