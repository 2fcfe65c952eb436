//! Tests of afinar's redact handling (filled in by its issue).
