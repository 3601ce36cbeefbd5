//! The export transport: sends one [`HttpRequest`] with `fetch` and turns what happens into
//! an [`Outcome`] for the queue. gloo-net binds the global `fetch`, so this runs unchanged on
//! Node 18+, Deno, Bun, workerd and browsers; a user-given `fetch` (the `fetch` option) is
//! called instead when set. Compiled for wasm32 only.

use crate::queue::{HttpRequest, Outcome};
use gloo_net::http::{Headers, RequestBuilder};
use js_sys::{Function, Promise};
use std::cell::RefCell;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

thread_local! {
    static CUSTOM_FETCH: RefCell<Option<Function>> = const { RefCell::new(None) };
}

/// Uses `f` instead of the global `fetch` (None: back to the global one).
pub fn set_fetch(f: Option<Function>) {
    CUSTOM_FETCH.with(|c| *c.borrow_mut() = f);
}

fn message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "fetch failed".into())
}

/// `Retry-After` as milliseconds: delay-seconds or an HTTP date.
fn retry_after_ms(value: &str) -> Option<f64> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs >= 0.0).then_some(secs * 1000.0);
    }
    let at = js_sys::Date::parse(v);
    (!at.is_nan()).then(|| (at - js_sys::Date::now()).max(0.0))
}

/// Sends `req`; never fails: a refused connection, a timeout or a thrown custom fetch become
/// `Outcome::Network`.
pub async fn send(req: HttpRequest, keepalive: bool) -> Outcome {
    let headers = Headers::new();
    for (k, v) in &req.headers {
        headers.append(k, v);
    }
    let signal = web_sys::AbortSignal::timeout_with_u32(req.timeout_ms as u32);
    let built = RequestBuilder::new(&req.url)
        .method(gloo_net::http::Method::POST)
        .headers(headers)
        .abort_signal(Some(&signal))
        .body(req.body);
    let request = match built {
        Ok(r) => r,
        Err(e) => return Outcome::Network(e.to_string()),
    };
    let custom = CUSTOM_FETCH.with(|c| c.borrow().clone());
    let response = match custom {
        None if !keepalive => match request.send().await {
            Ok(r) => r,
            Err(e) => return Outcome::Network(e.to_string()),
        },
        _ => {
            // A custom fetch, or keepalive (which gloo-net does not expose): call fetch(request, init).
            let raw: web_sys::Request = request.into();
            let init = js_sys::Object::new();
            if keepalive {
                let _ = js_sys::Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE);
            }
            let f = match custom {
                Some(f) => f,
                None => match js_sys::Reflect::get(&js_sys::global(), &"fetch".into())
                    .ok()
                    .and_then(|f| f.dyn_into::<Function>().ok())
                {
                    Some(f) => f,
                    None => return Outcome::Network("no fetch in this runtime".into()),
                },
            };
            let promise = match f.call2(&JsValue::UNDEFINED, &raw, &init) {
                Ok(p) => Promise::resolve(&p),
                Err(e) => return Outcome::Network(message(&e)),
            };
            match JsFuture::from(promise)
                .await
                .map(|r| r.dyn_into::<web_sys::Response>())
            {
                Ok(Ok(r)) => r.into(),
                Ok(Err(_)) => {
                    return Outcome::Network(
                        "fetch resolved to something that is not a Response".into(),
                    )
                }
                Err(e) => return Outcome::Network(message(&e)),
            }
        }
    };
    let code = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| retry_after_ms(&v));
    let body = response.text().await.unwrap_or_default();
    Outcome::Status {
        code,
        retry_after_ms: retry_after,
        body,
    }
}
