//! Tests of the web service: the browser walk (with `CRYOSEED_TEST_BROWSER=1`), the API on both
//! database backends, the authorization matrix, the
//! blinding walk, the Chinese screens, the OpenAPI document, data management (queries, locks,
//! signatures, audit trail) and the statistician's dashboard and exports.

#![allow(clippy::print_stderr, reason = "the PostgreSQL skip message is the tests' output")]

mod api;
mod blinding;
mod browser;
mod common;
mod i18n;
mod matrix;
mod plans;
mod records;
mod statistics;
