//! Containing panics in third-party parsers. calamine panics on some malformed
//! workbooks (found by `fuzz/`); a bad input must be an error naming the file, never a
//! crash, so such calls run under [`contain`]. With [`install_panic_hook`], a panic
//! contained this way prints nothing; every other panic still prints as usual.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};

thread_local! {
    /// Whether this thread is inside [`contain`].
    static CONTAINED: Cell<bool> = const { Cell::new(false) };
}

/// A panic caught by [`contain`], with its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Panicked(pub String);

/// Runs `f`; a panic inside it becomes `Err` with the panic's message.
pub fn contain<T>(f: impl FnOnce() -> T) -> Result<T, Panicked> {
    let outer = CONTAINED.with(|c| c.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CONTAINED.with(|c| c.set(outer));
    result.map_err(|payload| {
        Panicked(
            payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown error".to_owned()),
        )
    })
}

/// Silences the default panic message for panics that [`contain`] will catch.
pub fn install_panic_hook() {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !CONTAINED.with(Cell::get) {
            previous(info);
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_is_an_error_with_its_message() {
        assert_eq!(contain(|| 7), Ok(7));
        let err = contain(|| -> u8 { panic!("bad row {}", 3) }).unwrap_err();
        assert_eq!(err.to_string(), "bad row 3");
        // Nesting keeps the outer state.
        let nested = contain(|| contain(|| panic!("inner")).unwrap_err());
        assert_eq!(nested, Ok(Panicked("inner".to_owned())));
    }
}
