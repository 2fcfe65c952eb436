//! Tests of afinar's sources handling (filled in by its issue).
