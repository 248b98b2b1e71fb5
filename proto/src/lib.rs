//! The sans-IO protocol core of Aster RPC.
pub mod admission;
pub mod call;
pub mod codec;
pub mod contract;
pub mod frame;
pub mod limits;
pub mod message;
pub mod registry;
pub mod service;
mod small;
pub mod status;
pub mod ticket;
pub mod trust;
pub mod xlang;

pub use small::SmallString;
pub use status::{Status, StatusCode};

#[doc(hidden)]
pub mod __private {
    //! Re-exports for macro-generated code.
    pub use serde_json;
}
