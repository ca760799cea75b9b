//! Acceptance tests of `cryoseed-store`: every test in `on_both!` runs on SQLite and on
//! PostgreSQL (when `CRYOSEED_TEST_POSTGRES_URL` is set).

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the PostgreSQL skip message and the crash child's acknowledgements are the tests' output"
)]

mod auth;
mod common;
mod crash;
mod randomization;
mod records;
