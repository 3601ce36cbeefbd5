//! What happens to a captured value before it is kept: secrets masked ([`redact`]) and the
//! JSON text cut to its byte budget ([`limits`]). Below everything that records or encodes.

pub mod limits;
pub mod redact;
