//! The local store of browsers and web workers: IndexedDB, written from Rust with web-sys.
//!
//! One database, [`DB_NAME`], with two object stores:
//! - [`OBJECT_STORE`] (`records`): the local-store records `{type, data}` (docs/records.md)
//!   under auto-increment keys, so reading them back in key order gives the order they were
//!   written in. The JS wrapper hands over the text of `takeLocal()` (JSON lines); each batch
//!   is added in one readwrite transaction, so a batch is stored whole or not at all, and the
//!   records survive a reload.
//! - [`OUTBOX_STORE`] (`outbox`): the durable export queue. Each value is one job's outbox
//!   text (`exportPersist()`, JSON) under the job id as key (a number): put before the job's
//!   first send, deleted once the receiver accepted it or it was given up, listed at start so
//!   the next page load sends it again.
//!
//! `indexedDB` is taken from the global object (`js_sys::global()`), never from `window()`, so
//! the same code runs in pages and in dedicated, shared and service workers.
//!
//! The plain part (names, splitting batches into records) is host-tested; the IndexedDB part
//! is compiled for wasm32 only. The bindings in `src/wasm.rs` convert and delegate to it.

/// The IndexedDB database name.
pub const DB_NAME: &str = "agensight";
/// The object store holding the records.
pub const OBJECT_STORE: &str = "records";
/// The object store holding the export outbox (job id -> job text).
pub const OUTBOX_STORE: &str = "outbox";
/// The schema version. 1: [`OBJECT_STORE`] with auto-increment keys. 2: adds [`OUTBOX_STORE`]
/// (out-of-line keys). The upgrade creates only the stores that are missing, so a version 1
/// database keeps its records.
pub const DB_VERSION: u32 = 2;

/// The object stores an upgrade must create, given the ones the database has: every store
/// of the current schema that is missing (none of the existing ones is touched).
pub fn missing_stores(existing: &[String]) -> Vec<&'static str> {
    [OBJECT_STORE, OUTBOX_STORE]
        .into_iter()
        .filter(|s| !existing.iter().any(|e| e == s))
        .collect()
}

/// The records of a batch of store text (`takeLocal()` output): its non-blank lines.
pub fn record_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

#[cfg(target_arch = "wasm32")]
pub use idb::{append, available, clear, outbox_delete, outbox_list, outbox_put, read_all};

#[cfg(target_arch = "wasm32")]
mod idb {
    use super::{missing_stores, record_lines, DB_NAME, DB_VERSION, OBJECT_STORE, OUTBOX_STORE};
    use crate::error::Error;
    use js_sys::{Array, Function, Promise, Reflect};
    use std::cell::RefCell;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::{future_to_promise, JsFuture};
    use web_sys::{
        DomException, Event, IdbDatabase, IdbFactory, IdbObjectStoreParameters, IdbRequest,
        IdbTransaction, IdbTransactionMode,
    };

    thread_local! {
        /// The open database, as a Promise of the `IDBDatabase`: opened once, shared by every
        /// call (calls made while it opens wait for the same open).
        static DB: RefCell<Option<Promise>> = const { RefCell::new(None) };
    }

    /// A readable message for a failure: a DOMException's name and message, an Error's
    /// message, or the value as text.
    fn describe(e: &JsValue) -> String {
        if let Some(d) = e.dyn_ref::<DomException>() {
            return format!("{}: {}", d.name(), d.message());
        }
        if let Some(err) = e.dyn_ref::<js_sys::Error>() {
            return String::from(err.message());
        }
        e.as_string().unwrap_or_else(|| format!("{e:?}"))
    }

    fn failed(what: &str, e: &JsValue) -> Error {
        Error::new(
            "indexeddb",
            format!("IndexedDB {what} failed: {}", describe(e)),
        )
    }

    /// `indexedDB` of the global object (window, worker, service worker), if it has one.
    fn factory() -> Option<IdbFactory> {
        Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB"))
            .ok()
            .and_then(|f| f.dyn_into::<IdbFactory>().ok())
    }

    /// Whether this global object has IndexedDB.
    pub fn available() -> bool {
        factory().is_some()
    }

    /// Resolves with the request's result on `success`, rejects with its error on `error`.
    /// One closure serves both events, so it is called exactly once and then freed.
    async fn settled(req: &IdbRequest) -> Result<JsValue, JsValue> {
        let promise = Promise::new(&mut |resolve: Function, reject: Function| {
            let r = req.clone();
            let settle = Closure::once_into_js(move |event: Event| {
                if event.type_() == "success" {
                    let _ = resolve.call1(
                        &JsValue::UNDEFINED,
                        &r.result().unwrap_or(JsValue::UNDEFINED),
                    );
                } else {
                    let e = r
                        .error()
                        .ok()
                        .flatten()
                        .map(JsValue::from)
                        .unwrap_or(JsValue::NULL);
                    let _ = reject.call1(&JsValue::UNDEFINED, &e);
                }
            });
            req.set_onsuccess(Some(settle.unchecked_ref()));
            req.set_onerror(Some(settle.unchecked_ref()));
        });
        JsFuture::from(promise).await
    }

    /// Resolves when the transaction commits, rejects when it aborts (a failed request aborts
    /// its transaction, so `abort` follows `error`; only `complete` and `abort` are awaited).
    async fn committed(tx: &IdbTransaction) -> Result<(), JsValue> {
        let promise = Promise::new(&mut |resolve: Function, reject: Function| {
            let t = tx.clone();
            let settle = Closure::once_into_js(move |event: Event| {
                if event.type_() == "complete" {
                    let _ = resolve.call0(&JsValue::UNDEFINED);
                } else {
                    let e = t.error().map(JsValue::from).unwrap_or_else(|| {
                        JsValue::from_str("AbortError: the transaction was aborted")
                    });
                    let _ = reject.call1(&JsValue::UNDEFINED, &e);
                }
            });
            tx.set_oncomplete(Some(settle.unchecked_ref()));
            tx.set_onabort(Some(settle.unchecked_ref()));
        });
        JsFuture::from(promise).await.map(|_| ())
    }

    async fn open() -> Result<JsValue, JsValue> {
        let factory = factory()
            .ok_or_else(|| JsValue::from_str("IndexedDB is not available in this runtime"))?;
        let req = factory.open_with_u32(DB_NAME, DB_VERSION)?;
        let r = req.clone();
        // Runs for a new database and for one of an older schema version (1: no outbox):
        // creates the stores that are missing and leaves the others (and their data) alone.
        let upgrade = Closure::once_into_js(move |_event: Event| {
            if let Some(db) = r
                .result()
                .ok()
                .and_then(|v| v.dyn_into::<IdbDatabase>().ok())
            {
                let names = db.object_store_names();
                let existing: Vec<String> =
                    (0..names.length()).filter_map(|i| names.item(i)).collect();
                for name in missing_stores(&existing) {
                    if name == OBJECT_STORE {
                        let params = IdbObjectStoreParameters::new();
                        params.set_auto_increment(true);
                        let _ = db.create_object_store_with_optional_parameters(name, &params);
                    } else {
                        // Out-of-line keys: the job id is given with each put.
                        let _ = db.create_object_store(name);
                    }
                }
            }
        });
        req.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
        let db: IdbDatabase = settled(&req).await?.dyn_into()?;
        // Another tab or worker upgrading the schema: close, so it is not blocked; the next
        // call opens again.
        let d = db.clone();
        let on_change = Closure::once_into_js(move |_event: Event| {
            d.close();
            DB.with(|c| c.borrow_mut().take());
        });
        db.set_onversionchange(Some(on_change.unchecked_ref()));
        Ok(db.into())
    }

    async fn database() -> Result<IdbDatabase, Error> {
        let promise = DB.with(|c| {
            c.borrow_mut()
                .get_or_insert_with(|| future_to_promise(open()))
                .clone()
        });
        match JsFuture::from(promise).await {
            Ok(db) => Ok(db.unchecked_into()),
            Err(e) => {
                // Not cached: a later call tries again (storage may become available).
                DB.with(|c| c.borrow_mut().take());
                Err(failed("open", &e))
            }
        }
    }

    /// Adds the records of `text` (JSON lines) in one transaction; resolves with how many
    /// were stored once the transaction has committed.
    pub async fn append(text: &str) -> Result<u32, Error> {
        let db = database().await?;
        let write = || -> Result<(IdbTransaction, u32), JsValue> {
            let tx =
                db.transaction_with_str_and_mode(OBJECT_STORE, IdbTransactionMode::Readwrite)?;
            let store = tx.object_store(OBJECT_STORE)?;
            let mut n = 0;
            for line in record_lines(text) {
                // The tracer wrote each line as one JSON record; a line that does not parse
                // (it cannot happen short of a bug) is left out rather than failing the batch.
                if let Ok(record) = js_sys::JSON::parse(line) {
                    store.add(&record)?;
                    n += 1;
                }
            }
            Ok((tx, n))
        };
        let (tx, n) = write().map_err(|e| failed("write", &e))?;
        committed(&tx).await.map_err(|e| failed("write", &e))?;
        Ok(n)
    }

    /// Every stored record, oldest first, as an array of `{type, data}` objects.
    pub async fn read_all() -> Result<Array, Error> {
        let db = database().await?;
        let req = db
            .transaction_with_str(OBJECT_STORE)
            .and_then(|tx| tx.object_store(OBJECT_STORE))
            .and_then(|store| store.get_all())
            .map_err(|e| failed("read", &e))?;
        let all = settled(&req).await.map_err(|e| failed("read", &e))?;
        Ok(all.unchecked_into())
    }

    /// Deletes every stored record.
    pub async fn clear() -> Result<(), Error> {
        let db = database().await?;
        let tx = db
            .transaction_with_str_and_mode(OBJECT_STORE, IdbTransactionMode::Readwrite)
            .map_err(|e| failed("clear", &e))?;
        tx.object_store(OBJECT_STORE)
            .and_then(|store| store.clear())
            .map_err(|e| failed("clear", &e))?;
        committed(&tx).await.map_err(|e| failed("clear", &e))
    }

    /// Runs `op` on the outbox store in one readwrite transaction and waits for the commit.
    async fn outbox_write(
        what: &str,
        op: impl FnOnce(&web_sys::IdbObjectStore) -> Result<IdbRequest, JsValue>,
    ) -> Result<(), Error> {
        let db = database().await?;
        let tx = db
            .transaction_with_str_and_mode(OUTBOX_STORE, IdbTransactionMode::Readwrite)
            .map_err(|e| failed(what, &e))?;
        tx.object_store(OUTBOX_STORE)
            .and_then(|store| op(&store))
            .map_err(|e| failed(what, &e))?;
        committed(&tx).await.map_err(|e| failed(what, &e))
    }

    /// Stores export job `id`'s outbox text (replacing any earlier copy); resolves once
    /// committed, so a send that follows is backed by it.
    pub async fn outbox_put(id: f64, text: &str) -> Result<(), Error> {
        outbox_write("outbox write", |store| {
            store.put_with_key(&JsValue::from_str(text), &JsValue::from_f64(id))
        })
        .await
    }

    /// Deletes export job `id`'s outbox entry (nothing happens when there is none).
    pub async fn outbox_delete(id: f64) -> Result<(), Error> {
        outbox_write("outbox delete", |store| {
            store.delete(&JsValue::from_f64(id))
        })
        .await
    }

    /// Every outbox entry as `{id, text}` objects, in key order. A value that is not text
    /// (not written by this code) comes with `text: ""`, which `exportRestore` refuses, so the
    /// caller deletes it.
    pub async fn outbox_list() -> Result<Array, Error> {
        let db = database().await?;
        let (keys, values) = db
            .transaction_with_str(OUTBOX_STORE)
            .and_then(|tx| tx.object_store(OUTBOX_STORE))
            .and_then(|store| Ok((store.get_all_keys()?, store.get_all()?)))
            .map_err(|e| failed("outbox read", &e))?;
        let keys: Array = settled(&keys)
            .await
            .map_err(|e| failed("outbox read", &e))?
            .unchecked_into();
        let values: Array = settled(&values)
            .await
            .map_err(|e| failed("outbox read", &e))?
            .unchecked_into();
        let out = Array::new();
        for (key, value) in keys.iter().zip(values.iter()) {
            let entry = js_sys::Object::new();
            let text = value.as_string().unwrap_or_default();
            let _ = Reflect::set(&entry, &JsValue::from_str("id"), &key);
            let _ = Reflect::set(
                &entry,
                &JsValue::from_str("text"),
                &JsValue::from_str(&text),
            );
            out.push(&entry);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_split_into_its_non_blank_lines() {
        let text = "{\"type\":\"trace\",\"data\":{}}\n\n  \n{\"type\":\"span\",\"data\":{}}\n";
        assert_eq!(
            record_lines(text).collect::<Vec<_>>(),
            vec![
                "{\"type\":\"trace\",\"data\":{}}",
                "{\"type\":\"span\",\"data\":{}}"
            ]
        );
        assert_eq!(record_lines("").count(), 0);
        assert_eq!(
            record_lines("\r\n{\"type\":\"x\",\"data\":{}}\r\n").collect::<Vec<_>>(),
            vec!["{\"type\":\"x\",\"data\":{}}"]
        );
    }

    #[test]
    fn schema_names_are_stable() {
        // Pages, workers and older releases all open the same database: changing these is a
        // schema migration (bump DB_VERSION and migrate in the upgrade handler).
        assert_eq!(
            (DB_NAME, OBJECT_STORE, OUTBOX_STORE, DB_VERSION),
            ("agensight", "records", "outbox", 2)
        );
    }

    #[test]
    fn an_upgrade_creates_only_the_missing_stores() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            missing_stores(&[]),
            vec!["records", "outbox"],
            "a new database"
        );
        assert_eq!(
            missing_stores(&names(&["records"])),
            vec!["outbox"],
            "from version 1: the records stay"
        );
        assert_eq!(
            missing_stores(&names(&["outbox", "records"])),
            Vec::<&str>::new()
        );
        assert_eq!(
            missing_stores(&names(&["records", "other"])),
            vec!["outbox"]
        );
    }
}
