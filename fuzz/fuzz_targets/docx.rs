#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    // libfuzzer-sys's panic hook aborts even on panics the library contains (calamine's,
    // caught in afinar-formats); the default hook lets those through, while a panic that
    // escapes the harness still aborts (libfuzzer-sys catches it and aborts).
    init: {
        let _ = std::panic::take_hook();
    },
    |data: &[u8]| afinar_fuzz::docx(data)
);
