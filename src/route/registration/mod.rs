//! Registering a broker: what tells a registration unchanged, the runs of
//! topics its last full registration wrote, and reading a body against the
//! layout of the last.

pub mod fingerprint;
pub mod incremental;
pub mod layout;
pub mod runs;
