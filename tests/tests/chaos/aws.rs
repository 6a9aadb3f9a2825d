//! The AWS runtime under chaos (placeholder until wired).
