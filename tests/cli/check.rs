//! Tests of `afinar check` (filled in by its issue).
