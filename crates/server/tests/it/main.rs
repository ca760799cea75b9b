//! Tests of the web service: the API on both database backends, the authorization matrix, the
//! blinding walk, the Chinese screens, and the OpenAPI document.

#![allow(clippy::print_stderr, reason = "the PostgreSQL skip message is the tests' output")]

mod api;
mod blinding;
mod common;
mod i18n;
mod matrix;
