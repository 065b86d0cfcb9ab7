//! What the cntr applets share, one module per kernel object. The applets
//! themselves live in `applets/`; this library has no policy of its own
//! beyond what two applets need alike.

pub mod cgroup;
pub mod cred;
pub mod engine;
pub mod env;
pub mod error;
pub mod exec;
pub mod handoff;
pub mod heap;
pub mod mount;
pub mod ns;
pub mod passwd;
pub mod pidns;
pub mod proc;
pub mod root;
pub mod sealed;
pub mod seccomp;
pub mod sys;
pub mod tools;
pub mod trace;
