//! Integration tests of cryoseed-core, one binary (`tests/it/`).

mod protocol;
