//! The trial protocol (being written).
