//! A request as the JS transport (`js/transport.js`) receives it: the head (URL, method,
//! headers, time limit) as JSON, the body as bytes beside it.

use crate::json::{push_string, Obj};

/// A request for the transport to send; the body is borrowed from its job in the queue.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest<'q> {
    pub url: String,
    /// As it goes on the wire (JSON text or protobuf).
    pub body: &'q [u8],
    /// Header name/value pairs (content type, the user's headers, authorization).
    pub headers: Vec<(String, String)>,
    pub timeout_ms: f64,
}

impl HttpRequest<'_> {
    /// Every request is a POST.
    pub const METHOD: &'static str = "POST";

    /// The head as JSON (`exportHead`): `{"url","method","headers":[[name,value],...],
    /// "timeoutMs"}`; the body goes apart, as bytes (`exportBody`).
    ///
    /// ```
    /// use agensight_wasm::export::request::HttpRequest;
    /// let r = HttpRequest { url: "http://127.0.0.1:4318/v1/traces".into(), body: b"{}",
    ///     headers: vec![("content-type".into(), "application/json".into())], timeout_ms: 10000.0 };
    /// assert_eq!(r.head_json(), r#"{"url":"http://127.0.0.1:4318/v1/traces","method":"POST","headers":[["content-type","application/json"]],"timeoutMs":10000}"#);
    /// ```
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn head_json(&self) -> String {
        let mut out = String::with_capacity(self.url.len() + 128);
        let mut o = Obj::new(&mut out);
        o.str("url", &self.url)
            .str("method", Self::METHOD)
            .raw("headers", &self.headers_json())
            .num("timeoutMs", self.timeout_ms);
        o.finish();
        out
    }

    /// The request as JSON for the JS transport, body inside (`exportRequest`, until the JS
    /// uses `exportHead` and `exportBody`): `{"url","headers":[[name,value],...],"body",
    /// "timeoutMs"}`.
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.body.len() + self.url.len() + 128);
        let mut o = Obj::new(&mut out);
        o.str("url", &self.url)
            .raw("headers", &self.headers_json())
            // Text only: a protobuf body needs `exportBody`'s bytes.
            .str("body", &String::from_utf8_lossy(self.body))
            .num("timeoutMs", self.timeout_ms);
        o.finish();
        out
    }

    #[cfg_attr(agensight_size, optimize(size))]
    fn headers_json(&self) -> String {
        let mut headers = String::from("[");
        for (i, (k, v)) in self.headers.iter().enumerate() {
            if i > 0 {
                headers.push(',');
            }
            headers.push('[');
            push_string(&mut headers, k);
            headers.push(',');
            push_string(&mut headers, v);
            headers.push(']');
        }
        headers.push(']');
        headers
    }
}
