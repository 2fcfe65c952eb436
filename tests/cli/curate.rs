//! Tests of `afinar curate` (filled in by its issue).
