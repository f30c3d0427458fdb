//! taxi_loader's remote sources: `http://`, `https://` and `s3://bucket/key` objects, read with
//! range requests on network threads of their own and handed to the reader as plain bytes.
//! pgrx-free: the reader (taxi_core) sees a [`RemoteFile`] as a
//! [`taxi_core::read::input::RemoteObject`], bytes at offsets ([`object`]). The core does not
//! depend on this crate: only the extension, behind its `remote` feature, links the network stack.

pub mod client;
pub mod error;
pub mod file;
pub mod location;
pub mod months;
pub mod object;
#[cfg(feature = "testing")]
pub mod testing;

pub use client::{Client, Meta, S3Settings, Settings};
pub use error::RemoteError;
pub use file::RemoteFile;
pub use location::{RemoteUrl, Scheme};
