//! Export, without I/O: the queue of jobs waiting to be sent ([`queue`]), what a request looks
//! like to the JS transport ([`request`]) and what an answer means ([`policy`]).

pub mod policy;
pub mod queue;
pub mod request;
