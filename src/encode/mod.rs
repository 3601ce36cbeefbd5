//! The wire encoders: a [`crate::model::Batch`] as Agensight records ([`agensight`], also the
//! local store's lines) or as an OTLP/HTTP JSON body ([`otlp_json`]). Which attributes a span
//! carries, the GenAI ones above all, is written once, in [`genai`], into an [`genai::AttrSink`]
//! that each encoder (and an OTLP protobuf one) provides.

pub mod agensight;
pub mod genai;
pub mod otlp_json;
pub mod otlp_proto;
