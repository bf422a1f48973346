//! Backends for `io-model` (placeholder until the backends land).
